"""Re-matching after an advisory update, and ingest while it runs.

The store is the center benchmark's (``bench/center_data.py``: 10,000 images with stored
inventories of 300 packages and ~100 findings each). The advisory database is that store's
own advisories (``center_data.Pools``) written as OSV records and imported with ``seawall
db import``: a fresh import has a new ``built_at``, so to the center it is an advisory
update and every stored inventory is matched again, without a registry.

Two set-ups, each from a fresh copy of the cached store:

* embedded: the center's own Worker (2 job threads, in this process) on SQLite;
* scale-out: the center's dispatcher in this process, two ``seawall worker`` processes
  (``--concurrency 1``) over RabbitMQ (a vhost of its own), on PostgreSQL.

While the re-match runs, a fresh image scan is ingested every 0.5 s through the real ``ingest()``
(in this process: for the embedded center that is the same process as its job threads, as
in production), and its latency is printed (median, p95) next to the same measure with
nothing running. Prints figures only; exits 0 whatever they are.

    .venv/bin/python bench/rematch_speed.py [--quick] [--setups embedded,workers]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from sqlalchemy import func, select  # noqa: E402

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


def osv_records(pools: center_data.Pools) -> dict[str, dict[str, object]]:
    """Every advisory of the pools as an OSV record (records sharing an id merged)."""
    records: dict[str, dict[str, object]] = {}
    for package in [*pools.deb, *pools.npm, *pools.pypi]:
        if package.ecosystem is Ecosystem.DEB:
            ecosystems: tuple[str, ...] = DEB_ECOSYSTEMS
        else:
            ecosystems = ("npm",) if package.ecosystem is Ecosystem.NPM else ("PyPI",)
        for advisory, fix in zip(package.advisories, package.fixes, strict=True):
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


def advisory_database(stamp: str) -> Path:
    """A new advisory database of the pools' advisories (a new ``built_at``)."""
    records = WORK / "osv"
    if not records.is_dir():
        records.mkdir(parents=True)
        for ident, record in osv_records(center_data.Pools()).items():
            (records / f"{ident}.json").write_text(json.dumps(record))
    path = WORK / f"advisories-{stamp}.db"
    path.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "seawall", "db", "import", str(records), "--db", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"db import failed: {done.stderr}")
    return path


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

    def __init__(self, center: Center, size: center_data.Size, period: float = 0.5) -> None:
        self.center = center
        self.size = size
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


def rematch(
    center: Center,
    size: center_data.Size,
    setup: str,
    round_name: str,
    images: int,
    last_id: int,
) -> None:
    """Wait for the re-match the new database triggers; print how long it took."""
    from seawall.vulndb.store import AdvisoryStore

    store = AdvisoryStore.open(center.config.advisory_db)
    built_at = store.describe()["built_at"]
    store.close()
    start = time.perf_counter()
    with IngestProbe(center, size) as busy:
        time.sleep(2)  # the upkeep queues the jobs at its next round
        while True:
            left, jobs = pending(center, built_at, last_id)
            if jobs == 0:
                break
            time.sleep(0.5)
    elapsed = time.perf_counter() - start
    rss = int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0]) // 1024
    print(
        f"{setup}, {round_name}: re-matched {images - left:,} of {images:,} images in "
        f"{elapsed:.1f} s ({(images - left) / elapsed:.0f} images/s); during: "
        f"{busy.summary()}; bench process peak RSS {rss} MB",
        flush=True,
    )


def run(setup: str, size: center_data.Size, advisories: Path) -> None:
    backend = "sqlite" if setup == "embedded" else "postgres"
    url, drop = center_data.fresh_copy(size, backend, f"rematch-{setup}")
    vhost = f"seawall-bench-{uuid.uuid4().hex[:8]}"
    broker = f"amqp://guest:guest@127.0.0.1:5672/{vhost}" if setup == "workers" else ""
    workers: list[subprocess.Popen[bytes]] = []
    try:
        config = CenterConfig(
            data_dir=WORK / "data", database_url=url, advisory_db=advisories, broker_url=broker,
            match_interval_seconds=3600, job_threads=2,
        )  # fmt: skip
        engine = connect(config.url)
        migrate(engine)
        center = Center(config=config, engine=engine, sessions=sessions(engine))
        with center.sessions() as session:
            last_id = session.scalar(select(func.max(StoredInventory.image_id))) or 0
        images, _ = pending(center, "", last_id)
        with IngestProbe(center, size) as quiet:
            time.sleep(10)
        print(f"{setup}: {images:,} stored images; before: {quiet.summary()}", flush=True)
        if broker:
            subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True)
            subprocess.run(["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*",
                            ".*"], check=True, capture_output=True)  # fmt: skip
            database = url.replace("+pg8000", "")
            command = [sys.executable, "-m", "seawall", "worker", "--broker", broker,
                       "--database", database, "--data-dir", str(config.data_dir),
                       "--db", str(advisories), "--concurrency", "1"]  # fmt: skip
            workers = [subprocess.Popen([*command, "--name", f"bench-{n}"]) for n in range(2)]
        worker = Worker(center)
        worker.start()
        for round_name in ("advisories changed", "nothing changed"):
            if round_name == "nothing changed":  # `seawall db update` with nothing new
                fresh = advisory_database(f"{setup}-again-{int(time.time())}")
                fresh.replace(advisories)
                worker.wake()
            rematch(center, size, setup, round_name, images, last_id)
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
    args = parser.parse_args()
    size = center_data.QUICK if args.quick else center_data.FULL
    os.environ.setdefault("SEAWALL_SECRET_KEY", "bench-only")
    for setup in args.setups.split(","):
        advisories = advisory_database(f"{setup}-{int(time.time())}")
        run(setup, size, advisories)


if __name__ == "__main__":
    main()
