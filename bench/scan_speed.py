"""How much a vulnerability scan adds to the inventory, and how fast stored inventories are
re-matched, with a full-size advisory database.

1. The database: the 500,000 synthetic OSV records of ``db_import_speed.py`` plus, so that the
   image's own packages have advisories to evaluate, ten records for every source package of
   the Debian 12 bench image (fixed versions around the installed one: some affect it, some
   do not). Built once into ``bench/.work/scan/advisories.db``.
2. ``seawall sbom IMAGE`` against ``seawall image scan IMAGE --db ...`` on the 850 MB Debian
   image, N runs each, cold layer cache: the difference of the medians is what scanning adds
   (target: at most 0.3 s).
3. 1,000 stored inventories (about 300,000 packages, drawn from the bench images' packages
   with versions varied) re-matched against the database in one process (target: 10 s).

Prints figures; never fails. Run ``bench/make_images.py`` and ``bench/db_import_speed.py``
first (they build the image and the synthetic archives).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / ".work"
SEAWALL = [sys.executable, "-m", "seawall"]
IMAGE = WORK / "images" / "debian12.docker.tar"
MULTI = WORK / "images" / "multilayer.docker.tar"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SEAWALL, *args], capture_output=True, text=True, check=False)


def inventory(image: Path) -> dict:
    result = run("sbom", str(image), "-f", "json", "--no-cache")
    if result.returncode:
        sys.exit(f"sbom failed: {result.stderr}")
    return json.loads(result.stdout)["inventory"]


def image_advisories(packages: list[dict], target: Path) -> Path:
    """Ten OSV records per source package of the image, around the installed version."""
    rng = random.Random(7)
    path = target / "Debian-image.zip"
    sources = {
        p.get("source_name") or p["name"]: p.get("source_version") or p["version"]
        for p in packages
        if p["ecosystem"] == "deb"
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, version in sources.items():
            for i in range(10):
                fixed = version + ("+deb12u9" if i % 2 else "")  # half affect the image
                record = {
                    "id": f"SYN-DEB-{name}-{i}",
                    "aliases": [f"CVE-2099-{rng.randrange(10**6)}"],
                    "modified": "2026-01-01T00:00:00Z",
                    "affected": [
                        {
                            "package": {"ecosystem": "Debian:12", "name": name},
                            "ranges": [
                                {
                                    "type": "ECOSYSTEM",
                                    "events": [{"introduced": "0"}, {"fixed": fixed}],
                                }
                            ],
                        }
                    ],
                }
                archive.writestr(f"{record['id']}.json", json.dumps(record))
    return path


def build_database(packages: list[dict]) -> Path:
    database = WORK / "scan" / "advisories.db"
    if database.exists():
        return database
    archives = sorted((WORK / "vulndb" / "osv").glob("*/all.zip"))
    if not archives:
        sys.exit("run bench/db_import_speed.py first (it generates the synthetic archives)")
    database.parent.mkdir(parents=True, exist_ok=True)
    extra = image_advisories(packages, database.parent)
    started = time.perf_counter()
    result = run("db", "import", *map(str, archives), str(extra), "--db", str(database))
    if result.returncode:
        sys.exit(f"db import failed: {result.stderr}")
    print(f"database built in {time.perf_counter() - started:.0f} s: {database}")
    return database


def timed(*args: str) -> float:
    started = time.perf_counter()
    result = run(*args)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.exit(f"seawall {' '.join(args)} failed: {result.stderr}")
    return elapsed


def scan_overhead(database: Path, runs: int) -> None:
    inventory_times, scan_times = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            inventory_times.append(
                timed("sbom", str(IMAGE), "-f", "json", "-o", "/dev/null", "--cache-dir", cache)
            )
        with tempfile.TemporaryDirectory() as cache:
            scan_times.append(
                timed(
                    "image",
                    "scan",
                    str(IMAGE),
                    "--db",
                    str(database),
                    "-f",
                    "json",
                    "-o",
                    "/dev/null",
                    "--cache-dir",
                    cache,
                )
            )
    a, b = statistics.median(inventory_times), statistics.median(scan_times)
    print(f"inventory only      median {a:.2f} s  (runs: {_runs(inventory_times)})")
    print(f"inventory + scan    median {b:.2f} s  (runs: {_runs(scan_times)})")
    print(f"scanning adds       {b - a:+.2f} s   target <= 0.30 s")


def _runs(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


def rematch(database: Path, count: int, packages_per: int) -> None:
    from seawall.model import Inventory
    from seawall.vulndb.match import Matcher
    from seawall.vulndb.store import AdvisoryStore

    rng = random.Random(11)
    base = [inventory(IMAGE), inventory(MULTI)] if MULTI.exists() else [inventory(IMAGE)]
    import msgspec

    stored = [msgspec.convert(doc, Inventory) for doc in base]
    pool = [(inv.distro, p) for inv in stored for p in inv.packages]
    inventories = []
    for _ in range(count):
        chosen = rng.sample(pool, min(packages_per, len(pool)))
        distro = stored[0].distro
        packages = tuple(
            msgspec.structs.replace(p, version=p.version + rng.choice(["", "", "", "+b1"]))
            for _, p in chosen
        )
        inventories.append(msgspec.structs.replace(stored[0], packages=packages, distro=distro))
    total = sum(len(i.packages) for i in inventories)
    store = AdvisoryStore.open(database)
    started = time.perf_counter()
    matcher = Matcher(store)
    findings = sum(len(matcher.match(inv)) for inv in inventories)
    elapsed = time.perf_counter() - started
    store.close()
    print(
        f"re-matched {count} inventories ({total} packages): {elapsed:.2f} s, "
        f"{findings} findings   target <= 10 s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--inventories", type=int, default=1000)
    parser.add_argument("--packages", type=int, default=300)
    args = parser.parse_args()
    if not IMAGE.exists():
        sys.exit("run bench/make_images.py first")
    database = build_database(inventory(IMAGE)["packages"])
    scan_overhead(database, args.runs)
    rematch(database, args.inventories, args.packages)


if __name__ == "__main__":
    main()
