"""Re-matching after an advisory update, and ingest while it runs.

The store is the center benchmark's (``bench/center_data.py``: 10,000 images with stored
inventories of 300 packages and ~100 findings each). The advisory database is that store's
own advisories (``center_data.Pools``; one in eight, so that a match finds ~100 in an image,
as the stored scans hold) written as OSV records and imported with ``seawall db import``.
Each round replaces it with another import, as ``seawall db update`` does:

* ``first match``: every image matched and ingested (no earlier state to compare with; the
  generated findings differ from the database's, so nearly every image is ingested again);
  by default only with ``--quick``: at full size the store is *primed* instead, as a first
  match leaves it (every inventory's footprint, the database's state), without its ingests;
* ``nothing changed``: the same advisories imported again (a new version);
* ``one package``, ``ten packages``: a fix published and a new advisory for the advisories of
  1 (npm) and 10 (npm, PyPI, Debian) packages, what a day of OSV changes looks like;
* ``openssl`` (``--quick`` only, or ``--worst``): a new advisory for a package every image has.

Two set-ups, each from a fresh copy of the cached store:

* embedded: the center's own Worker (2 job threads, in this process) on SQLite;
* scale-out: the center's dispatcher in this process, two ``seawall worker`` processes
  (``--concurrency 1``) over RabbitMQ (a vhost of its own), on PostgreSQL.

While the re-match runs, a fresh image scan is ingested every 0.5 s through the real ``ingest()``
(in this process: for the embedded center that is the same process as its job threads, as
in production), and its latency is printed (median, p95) next to the same measure with
nothing running. Prints figures only; exits 0 whatever they are.

    .venv/bin/python bench/rematch_speed.py [--quick] [--setups embedded,workers]
                                            [--first-match] [--worst]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from sqlalchemy import func, select, update  # noqa: E402

import center_data  # noqa: E402
from seawall.center.config import CenterConfig  # noqa: E402
from seawall.center.ingest import ingest  # noqa: E402
from seawall.center.jobs.runner import Worker  # noqa: E402
from seawall.center.runtime import Center  # noqa: E402
from seawall.center.security.roles import Principal, Role  # noqa: E402
from seawall.center.security.scope import EVERYTHING  # noqa: E402
from seawall.center.store.database import connect, migrate, sessions  # noqa: E402
from seawall.center.store.models import JobRow, StoredInventory  # noqa: E402
from seawall.model import Ecosystem  # noqa: E402

WORK = REPO / "bench" / ".work" / "rematch"
BENCH = Principal(name="bench", role=Role.CONTRIBUTOR, scope=EVERYTHING)
DEB_ECOSYSTEMS = ("Debian:12", "Debian:11", "Ubuntu:22.04:LTS")


def published(advisory_id: str) -> bool:
    """One advisory in eight of the pools' is in the database: a match then finds about
    100 vulnerabilities in an image of 300 packages, as the stored scans hold (all of them
    would make ~900)."""
    return zlib.crc32(advisory_id.encode()) % 8 == 0


def ecosystems_of(package: center_data.PoolPackage) -> tuple[str, ...]:
    if package.ecosystem is Ecosystem.DEB:
        return DEB_ECOSYSTEMS
    return ("npm",) if package.ecosystem is Ecosystem.NPM else ("PyPI",)


def osv_records(pools: center_data.Pools) -> dict[str, dict[str, object]]:
    """The :func:`published` advisories of the pools as OSV records (sharing an id: merged)."""
    records: dict[str, dict[str, object]] = {}
    for package in [*pools.deb, *pools.npm, *pools.pypi]:
        ecosystems = ecosystems_of(package)
        for advisory, fix in zip(package.advisories, package.fixes, strict=True):
            if not published(advisory.id):
                continue
            events: list[dict[str, str]] = [{"introduced": "0"}]
            if fix:
                events.append({"fixed": fix})
            record = records.setdefault(
                advisory.id,
                {
                    "schema_version": "1.6.0",
                    "id": advisory.id,
                    "modified": advisory.modified,
                    "published": advisory.published,
                    "aliases": list(advisory.aliases),
                    "summary": advisory.summary,
                    "details": advisory.details,
                    "severity": [{"type": "CVSS_V3", "score": advisory.cvss_vector}],
                    "database_specific": {"severity": advisory.severity.name},
                    "affected": [],
                },
            )
            affected = record["affected"]
            assert isinstance(affected, list)
            for ecosystem in ecosystems:
                affected.append(
                    {
                        "package": {"ecosystem": ecosystem, "name": package.source},
                        "ranges": [{"type": "ECOSYSTEM", "events": events}],
                    }
                )
    return records


def _write_records(directory: Path, records: dict[str, dict[str, object]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for ident, record in records.items():
        (directory / f"{ident}.json").write_text(json.dumps(record))
    return directory


def updated_records(name: str, base: Path, packages: list[center_data.PoolPackage]) -> Path:
    """The records of ``base`` after an update of ``packages``: the first published advisory
    of each gets a later fix, and each gets a new advisory (in a directory of its own)."""
    directory = WORK / f"osv-{name}"
    if directory.is_dir():
        shutil.rmtree(directory)
    shutil.copytree(base, directory)
    for number, package in enumerate(packages):
        ident = next((a.id for a in package.advisories if published(a.id)), "")
        if ident:
            record = json.loads((directory / f"{ident}.json").read_text())
            for affected in record["affected"]:
                affected["ranges"][0]["events"] = [{"introduced": "0"}, {"fixed": "99.0"}]
            record["modified"] = "2026-12-01T00:00:00Z"
            (directory / f"{ident}.json").write_text(json.dumps(record))
        ident = f"BENCH-{name}-{number}"
        record = {
            "schema_version": "1.6.0", "id": ident, "modified": "2026-12-01T00:00:00Z",
            "summary": f"{package.source}: a new advisory",
            "database_specific": {"severity": "HIGH"},
            "affected": [
                {"package": {"ecosystem": e, "name": package.source},
                 "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}
                for e in ecosystems_of(package)
            ],
        }  # fmt: skip
        (directory / f"{ident}.json").write_text(json.dumps(record))
    return directory


def base_records() -> Path:
    records = WORK / "osv"
    if not records.is_dir():
        _write_records(records, osv_records(center_data.Pools()))
    return records


def advisory_database(stamp: str, records: Path) -> Path:
    """A new advisory database (a new ``built_at``) of the OSV ``records``."""
    path = WORK / f"advisories-{stamp}.db"
    path.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "seawall", "db", "import", str(records), "--db", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"db import failed: {done.stderr}")
    return path


def updates(pools: center_data.Pools, worst: bool) -> list[tuple[str, Path]]:
    """The rounds after the first, each on top of the one before: (name, records)."""
    npm = [p for p in pools.npm if p.advisories]
    pypi = [p for p in pools.pypi if p.advisories]
    deb = [p for p in pools.deb[5:] if p.advisories]  # not the five every image has
    base = base_records()
    one = updated_records("one", base, npm[7:8])
    ten = updated_records("ten", one, [*npm[20:24], *pypi[3:6], *deb[9:12]])
    rounds = [("nothing changed", base), ("one package", one), ("ten packages", ten)]
    if worst:
        rounds.append(("openssl", updated_records("openssl", ten, pools.deb[:1])))
    return rounds


def prime(center: Center, advisories: Path) -> None:
    """Leave the store as a first match with ``advisories`` would (footprints, the state),
    without that match's ingests: the cached store's findings stay as generated."""
    from seawall.center.ingest import load_inventories
    from seawall.center.jobs.untouched import settle_untouched
    from seawall.vulndb.footprint import StoreState, footprint
    from seawall.vulndb.store import AdvisoryStore

    start = time.perf_counter()
    store = AdvisoryStore.open(advisories)
    built_at = store.describe()["built_at"]
    with center.sessions() as session:
        ids = list(session.scalars(select(StoredInventory.image_id)))
    for first in range(0, len(ids), 500):
        with center.sessions() as session, session.begin():
            inventories = load_inventories(session, ids[first : first + 500])
            session.execute(
                update(StoredInventory),
                [{"image_id": i, "matched_with": built_at, "footprint": footprint(inventory)}
                 for i, inventory in inventories.items()],
            )  # fmt: skip
    with center.sessions() as session, session.begin():
        settle_untouched(session, store, StoreState.of(store), dt.datetime.now(dt.UTC))
    store.close()
    print(f"primed {len(ids):,} inventories in {time.perf_counter() - start:.0f} s", flush=True)


def touched_images(center: Center, built_at: str, last_id: int) -> int:
    """How many of the store's images (not the probe's) the match jobs of ``built_at`` got."""
    with center.sessions() as session:
        payloads = session.scalars(
            select(JobRow.payload).where(
                JobRow.kind == "match_images", JobRow.key.startswith(f"match:{built_at}:")
            )
        )
        return sum(1 for payload in payloads for i in payload["images"] if i <= last_id)


def pending(center: Center, built_at: str, last_id: int) -> tuple[int, int]:
    """Stored inventories of the benchmark's store (not the probe's fresh images, whose ids
    come after) not matched with ``built_at``, and match jobs still active."""
    with center.sessions() as session:
        images = session.scalar(
            select(func.count())
            .select_from(StoredInventory)
            .where(StoredInventory.matched_with != built_at)
            .where(StoredInventory.image_id <= last_id)
        )
        jobs = session.scalar(
            select(func.count())
            .select_from(JobRow)
            .where(JobRow.kind == "match_images", JobRow.state.in_(("queued", "running")))
        )
    return images or 0, jobs or 0


class IngestProbe:
    """Ingests a fresh image scan (300 packages, 100 findings: the workload of the center's
    50 ms ingest target) every ``period`` seconds until stopped; keeps the latencies."""

    def __init__(self, center: Center, period: float = 0.5) -> None:
        self.center = center
        self.period = period
        self.pools = center_data.Pools()
        self.salt = f"probe{os.getpid()}x{time.monotonic_ns()}"
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> IngestProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        index = 0
        while not self._stop.wait(self.period):
            envelope, _ = center_data.image_envelopes(
                self.pools, index, findings=100, resolved=0, packages=300, salt=self.salt
            )
            index += 1
            start = time.perf_counter()
            with self.center.sessions() as session, session.begin():
                ingest(session, envelope, BENCH, dt.datetime.now(dt.UTC))
            self.latencies.append((time.perf_counter() - start) * 1000)

    def summary(self) -> str:
        if not self.latencies:
            return "no ingest"
        ordered = sorted(self.latencies)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        return f"ingest median {statistics.median(ordered):.0f} ms, p95 {p95:.0f} ms " \
               f"({len(ordered)} ingests)"  # fmt: skip


def rematch(center: Center, setup: str, round_name: str, images: int, last_id: int) -> None:
    """Wait for the re-match the new database triggers; print how long it took."""
    from seawall.vulndb.store import AdvisoryStore

    store = AdvisoryStore.open(center.config.advisory_db)
    built_at = store.describe()["built_at"]
    store.close()
    start = time.perf_counter()
    with IngestProbe(center) as busy:
        while True:
            left, jobs = pending(center, built_at, last_id)
            if left == 0 and jobs == 0:
                break
            time.sleep(0.1)
        elapsed = time.perf_counter() - start
    rss = int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0]) // 1024
    touched = touched_images(center, built_at, last_id)
    print(
        f"{setup}, {round_name}: {images:,} images up to date in {elapsed:.1f} s "
        f"({images / elapsed:,.0f} images/s); {touched:,} touched and matched"
        f"{f' ({touched / elapsed:.1f}/s)' if touched else ''}; during: {busy.summary()}; "
        f"bench process peak RSS {rss} MB",
        flush=True,
    )


def run(setup: str, size: center_data.Size, first_match: bool, worst: bool) -> None:
    backend = "sqlite" if setup == "embedded" else "postgres"
    url, drop = center_data.fresh_copy(size, backend, f"rematch-{setup}")
    vhost = f"seawall-bench-{uuid.uuid4().hex[:8]}"
    broker = f"amqp://guest:guest@127.0.0.1:5672/{vhost}" if setup == "workers" else ""
    workers: list[subprocess.Popen[bytes]] = []
    current = WORK / f"current-{setup}.db"
    advisory_database(f"{setup}-first", base_records()).replace(current)
    try:
        config = CenterConfig(
            data_dir=WORK / "data", database_url=url, advisory_db=current, broker_url=broker,
            match_interval_seconds=3600, job_threads=2,
        )  # fmt: skip
        engine = connect(config.url)
        migrate(engine)
        center = Center(config=config, engine=engine, sessions=sessions(engine))
        with center.sessions() as session:
            last_id = session.scalar(select(func.max(StoredInventory.image_id))) or 0
        images, _ = pending(center, "", last_id)
        if not first_match:
            prime(center, current)
        with IngestProbe(center) as quiet:
            time.sleep(10)
        print(f"{setup}: {images:,} stored images; before: {quiet.summary()}", flush=True)
        if broker:
            subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True)
            subprocess.run(["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*",
                            ".*"], check=True, capture_output=True)  # fmt: skip
            database = url.replace("+pg8000", "")
            command = [sys.executable, "-m", "seawall", "worker", "--broker", broker,
                       "--database", database, "--data-dir", str(config.data_dir),
                       "--db", str(current), "--concurrency", "1"]  # fmt: skip
            workers = [subprocess.Popen([*command, "--name", f"bench-{n}"]) for n in range(2)]
        worker = Worker(center)
        worker.start()
        if first_match:
            rematch(center, setup, "first match", images, last_id)
        for round_name, records in updates(center_data.Pools(), worst):
            advisory_database(f"{setup}-{round_name.replace(' ', '-')}", records).replace(current)
            worker.wake()
            rematch(center, setup, round_name, images, last_id)
        worker.stop()
        center.close()
    finally:
        for process in workers:
            process.terminate()
            process.wait(30)
        if broker:
            subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True)
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the small store (500 images)")
    parser.add_argument("--setups", default="embedded,workers")
    parser.add_argument("--first-match", action="store_true", help="time the first match")
    parser.add_argument("--worst", action="store_true", help="add the openssl round")
    args = parser.parse_args()
    size = center_data.QUICK if args.quick else center_data.FULL
    os.environ.setdefault("SEAWALL_SECRET_KEY", "bench-only")
    for setup in args.setups.split(","):
        run(setup, size, args.first_match or args.quick, args.worst or args.quick)


if __name__ == "__main__":
    main()
