"""Advisory database speed: import 500,000 OSV records, store size, lookup latency.

Targets (from the issue): 500,000 records imported in at most 2 minutes; a store of at most
400 MB. The records are synthetic but shaped like real ones: every real PyPI, Go and
crates.io record of ``../shared/advisories`` is taken as a template and copied with new ids,
package names, versions and ecosystems (distro ones included: Debian, Ubuntu, Alpine, Red
Hat, ...) into per-ecosystem OSV ``all.zip`` archives under ``bench/.work/osv/`` (made once,
reused). Prints records/s, the file size and ``store.affected`` latency (median, p99) on
random keys with a cold cache. Exits 0 whatever the figures.

    .venv/bin/python bench/db_import_speed.py [--records N] [--regenerate]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "advisories"
WORK = ROOT / "bench" / ".work" / "vulndb"
ECOSYSTEMS = {  # archive -> (OSV ecosystem strings used, share of the records)
    "Debian": (["Debian:11", "Debian:12", "Debian:13"], 0.16),
    "Ubuntu": (["Ubuntu:20.04:LTS", "Ubuntu:22.04:LTS", "Ubuntu:24.04:LTS"], 0.16),
    "Alpine": (["Alpine:v3.18", "Alpine:v3.19", "Alpine:v3.20"], 0.06),
    "Red Hat": (
        ["Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:8::baseos"],
        0.08,
    ),
    "SUSE": (["SUSE:Linux Enterprise Server 15 SP5"], 0.06),
    "PyPI": (["PyPI"], 0.12),
    "npm": (["npm"], 0.12),
    "Go": (["Go"], 0.08),
    "Maven": (["Maven"], 0.08),
    "crates.io": (["crates.io"], 0.04),
    "RubyGems": (["RubyGems"], 0.04),
}


def templates() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted((SHARED / "go" / "osv").glob("*.json")) + sorted(
        (SHARED / "crates.io" / "osv").glob("*.json")
    ):
        found.append(json.loads(path.read_bytes()))
    for path in sorted((SHARED / "pypi" / "vulns").glob("*/*.yaml")):
        record = yaml.safe_load(path.read_bytes())
        found.append(json.loads(json.dumps(record, default=str)))
    return [r for r in found if r.get("affected") and not r.get("withdrawn")]


def _bump(version: str, rng: random.Random) -> str:
    parts = version.split(".")
    if parts and parts[-1].isdigit():
        parts[-1] = str(int(parts[-1]) + rng.randint(0, 3))
    return ".".join(parts)


def variant(
    template: dict[str, Any], n: int, ecosystems: list[str], rng: random.Random
) -> dict[str, Any]:
    record = json.loads(json.dumps(template))
    record["id"] = f"SYN-{n:07d}"
    record["aliases"] = [f"CVE-{2000 + n % 25}-{n:07d}"]
    for i, affected in enumerate(record["affected"]):
        affected["package"]["ecosystem"] = rng.choice(ecosystems)
        affected["package"]["name"] = f"{affected['package']['name']}-{rng.randrange(20_000)}"
        for rng_ in affected.get("ranges", []):
            rng_["type"] = "ECOSYSTEM"
            for event in rng_.get("events", []):
                for kind in event:
                    event[kind] = _bump(event[kind], rng)
        affected.pop("versions", None) if i % 2 else None
    return record


def generate(total: int) -> list[Path]:
    rng = random.Random(42)
    shapes = templates()
    out = WORK / "osv"
    if out.exists():
        shutil.rmtree(out)
    zips = []
    n = 0
    for archive, (ecosystems, share) in ECOSYSTEMS.items():
        path = out / archive / "all.zip"
        path.parent.mkdir(parents=True)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            for _ in range(int(total * share)):
                n += 1
                record = variant(rng.choice(shapes), n, ecosystems, rng)
                z.writestr(f"{record['id']}.json", json.dumps(record))
        zips.append(path)
    (WORK / "osv" / "COUNT").write_text(str(total))
    return zips


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from seawall.vulndb.importer import import_paths
    from seawall.vulndb.store import AdvisoryStore

    count_file = WORK / "osv" / "COUNT"
    if args.regenerate or not count_file.exists() or count_file.read_text() != str(args.records):
        started = time.perf_counter()
        generate(args.records)
        print(f"generated {args.records} records in {time.perf_counter() - started:.0f} s")
    zips = sorted((WORK / "osv").glob("*/all.zip"))
    db = WORK / "advisories.db"
    db.unlink(missing_ok=True)

    started = time.perf_counter()
    report = import_paths(db, zips)
    elapsed = time.perf_counter() - started
    size = db.stat().st_size
    print(
        f"import: {report.added} records in {elapsed:.1f} s"
        f" = {report.added / elapsed:,.0f} records/s (target: 500,000 in 120 s);"
        f" {report.malformed} malformed"
    )
    print(f"store: {size / 1e6:.0f} MB (target: 400 MB), {report.total} advisories")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory so far: {peak:.0f} MB")

    started = time.perf_counter()
    store = AdvisoryStore.open(db)
    print(f"open: {(time.perf_counter() - started) * 1000:.1f} ms")
    keys = store._query("SELECT ecosystem, release, name FROM packages")
    rng = random.Random(7)
    sample = rng.sample(keys, min(20_000, len(keys)))
    times = []
    for ecosystem, release, name in sample:
        t0 = time.perf_counter()
        store.affected(ecosystem, release, name)
        times.append(time.perf_counter() - t0)
    times.sort()
    print(
        f"lookup (cold cache, {len(sample)} random keys of {len(keys)}): "
        f"median {statistics.median(times) * 1e6:.0f} us, "
        f"p99 {times[int(len(times) * 0.99)] * 1e6:.0f} us"
    )
    ids = [i for (i,) in store._query("SELECT id FROM advisories")]
    t0 = time.perf_counter()
    for advisory_id in rng.sample(ids, 5000):
        store.advisory(advisory_id)
    print(f"advisory(id): {(time.perf_counter() - t0) / 5000 * 1e6:.0f} us each")

    started = time.perf_counter()
    report = import_paths(db, [zips[0]])
    print(
        f"re-import of one archive ({zips[0].parent.name}) over the full store: "
        f"{time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
