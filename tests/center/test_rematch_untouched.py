"""An advisory update re-matches only the stored images it touched: the others are settled
from what their last match read (footprints) and the two databases' states, on SQLite and
PostgreSQL, with the center's own upkeep and job runner."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import msgspec
from sqlalchemy import select

from seawall.center.jobs.execution import JobContext
from seawall.center.jobs.matching import match_images
from seawall.center.jobs.runner import Worker
from seawall.center.store.models import AdvisoryState, Asset, ImageDigest, JobRow, StoredInventory
from seawall.report.envelope.image import inventory_envelope
from seawall.vulndb.store import AdvisoryStore
from tests.center.conftest import both_backends
from tests.center.test_ingest import post
from tests.support import envelopes
from tests.support.advisorydb import DEMO_RECORDS, demo_database

ONLY_MS = "sha256:" + "e" * 64  # an image holding nothing but the npm package ms


def _new_version(directory: Path, records: list[dict]) -> str:
    """Import ``records`` into ``directory``'s database as a new version (its build time,
    to the second, moves on); the new ``built_at``."""
    path = directory / "advisories.db"
    with AdvisoryStore.open(path) as store:
        before = store.describe()["built_at"]
    while True:
        started = int(time.time())
        while int(time.time()) == started:
            time.sleep(0.05)
        demo_database(directory, records)
        with AdvisoryStore.open(path) as store:
            after = store.describe()["built_at"]
        if after != before:
            return after


def _run_jobs(worker: Worker) -> None:
    while worker.run_one("test"):
        pass


def _images(runtime) -> dict[str, StoredInventory]:  # type: ignore[no-untyped-def]
    with runtime.sessions() as session:
        rows = session.execute(
            select(ImageDigest.digest, StoredInventory, Asset.last_scanned)
            .join(StoredInventory, StoredInventory.image_id == ImageDigest.image_id)
            .join(Asset, Asset.id == StoredInventory.image_id)
        ).all()
        return {digest: (inventory, scanned) for digest, inventory, scanned in rows}


@both_backends
def test_an_update_rematches_only_the_images_it_touched(make_center, tmp_path: Path) -> None:
    database = demo_database(tmp_path / "db")
    center = make_center(advisory_db=database)
    client = center.client("contributor")
    demo = envelopes.demo_inventory()
    only_ms = msgspec.structs.replace(
        demo,
        image=msgspec.structs.replace(demo.image, config_digest=ONLY_MS, reference="ms:1",
                                      manifest_digest="", repo_tags=("ms:1",)),
        packages=tuple(p for p in demo.packages if p.name == "ms"),
    )  # fmt: skip
    post(client, inventory_envelope(demo))
    post(client, inventory_envelope(only_ms))
    runtime = center.app.state.center
    worker = Worker(runtime)
    assert worker.match_pending() == 1
    _run_jobs(worker)
    first = _images(runtime)
    first_database = worker.database
    demo_id = first[envelopes.DEMO_CONFIG][0].image_id
    assert {inv.matched_with for inv, _ in first.values()} == {worker.database}
    assert all(inv.footprint for inv, _ in first.values())

    # a fix published for requests, a new bash advisory: the demo image is touched, the
    # image holding only ms is not
    records = copy.deepcopy(DEMO_RECORDS)
    records[0]["affected"][0]["ranges"][0]["events"][1] = {"fixed": "2.33.0"}
    bash = copy.deepcopy(records[2])
    bash.update(id="DSA-9002-1", aliases=["CVE-2026-0009"], summary="bash: another one")
    second = _new_version(tmp_path / "db", [*records, bash])
    assert worker.match_pending() == 1 and worker.database == second
    with runtime.sessions() as session:
        job = session.scalars(select(JobRow).where(JobRow.kind == "match_images")
                              .order_by(JobRow.id.desc())).first()  # fmt: skip
        assert job is not None and job.payload["images"] == [demo_id]
        assert session.get(AdvisoryState, worker.database) is not None
    settled = _images(runtime)[ONLY_MS]
    assert settled[0].matched_with == worker.database and settled[1] > first[ONLY_MS][1]
    _run_jobs(worker)
    image = client.get(f"/api/v1/images/{envelopes.DEMO_CONFIG}").json()
    assert image["counts"]["total"] == 5
    requests = client.get("/api/v1/findings", params={"package": "requests"}).json()["items"]
    assert requests[0]["fixed_version"] == "2.33.0"
    # matched in part (requests and bash only), the image holds what a full scan reports
    with runtime.sessions() as session:
        job = session.get(JobRow, job.id)
        assert job is not None and job.result["in_part"] == 1
    full = envelopes.demo_scan(tmp_path / "db" / "advisories.db", demo)
    stored = client.get("/api/v1/findings", params={"limit": 100}).json()["items"]
    assert {(f["rule"], f["package"], f["severity"], f["fixed_version"]) for f in stored
            if f["state"] == "open" and f["asset"]["name"] != "ms:1"} == {
        (r.rule, r.package.name, r.severity, r.fixed_version) for r in full.results
    }  # fmt: skip
    assert client.get(f"/api/v1/images/{ONLY_MS}").json()["counts"]["total"] == 1

    # the same advisories imported again: nothing is matched, both are settled, and the
    # states of databases no image is matched with any longer are gone
    third = _new_version(tmp_path / "db", [*records, bash])
    assert worker.match_pending() == 0 and worker.database == third
    assert {inv.matched_with for inv, _ in _images(runtime).values()} == {worker.database}
    with runtime.sessions() as session:
        kept = list(session.scalars(select(AdvisoryState.built_at)))
    assert kept == [third], (first_database, second, third, _images(runtime))


@both_backends
def test_an_image_scanned_elsewhere_is_matched_in_full(make_center, tmp_path: Path) -> None:
    """An uploaded scan carries no footprint: the next update matches it whatever changed."""
    database = demo_database(tmp_path / "db")
    center = make_center(advisory_db=database)
    client = center.client("contributor")
    post(client, envelopes.demo_scan(database))
    runtime = center.app.state.center
    worker = Worker(runtime)
    assert worker.match_pending() == 0  # scanned with this very database
    ((inventory, _),) = _images(runtime).values()
    assert inventory.matched_with == worker.database and inventory.footprint is None
    _new_version(tmp_path / "db", DEMO_RECORDS)  # the same advisories, a new version
    assert worker.match_pending() == 1
    _run_jobs(worker)
    ((inventory, _),) = _images(runtime).values()
    assert inventory.matched_with == worker.database and inventory.footprint


@both_backends
def test_a_rematch_that_changes_an_images_health_moves_what_runs_it(
    make_center, tmp_path: Path
) -> None:
    """The containers running an image are judged by its health: a re-match that fixes
    the image makes them healthy, one that leaves its health as it was leaves them alone."""
    database = demo_database(tmp_path / "db")
    center = make_center(advisory_db=database)
    client = center.client("contributor")
    post(client, inventory_envelope(envelopes.demo_inventory()))
    post(client, envelopes.host_audit(containers=(("web", "seawall/demo:1.0",
                                                   envelopes.DEMO_CONFIG, True),)))  # fmt: skip
    worker = Worker(center.app.state.center)
    worker.match_pending()
    _run_jobs(worker)

    def running_vulnerable() -> tuple[int, int]:
        (rec,) = [r for r in client.get("/api/v1/recommendations").json()
                  if r["id"] == "running-vulnerable-images"]  # fmt: skip
        return rec["unhealthy"], rec["healthy"]

    assert running_vulnerable() == (1, 0)
    # the three advisories of high and critical severity withdrawn
    withdrawn = [{**record, "withdrawn": "2026-12-01T00:00:00Z"} for record in DEMO_RECORDS[:3]]
    _new_version(tmp_path / "db", withdrawn)
    assert worker.match_pending() == 1
    _run_jobs(worker)
    image = client.get(f"/api/v1/images/{envelopes.DEMO_CONFIG}").json()
    assert image["healthy"] is True and image["counts"]["total"] == 1  # glibc's low one
    assert running_vulnerable() == (0, 1)


class _DeletingContext(JobContext):
    """A job context that deletes one image once the job has matched its images (at the
    check before the first ingest): an image deleted while its re-match runs."""

    def __init__(self, center, victim: int, matched: int) -> None:  # type: ignore[no-untyped-def]
        super().__init__(center=center, job_id=0, worker="test")
        self.victim, self.checks_left = victim, matched

    def check(self) -> None:
        self.checks_left -= 1
        if self.checks_left == -1:
            with self.center.sessions() as session, session.begin():
                session.delete(session.get(Asset, self.victim))


@both_backends
def test_an_image_deleted_during_its_rematch_is_reported_and_skipped(
    make_center, tmp_path: Path
) -> None:
    database = demo_database(tmp_path / "db")
    center = make_center(advisory_db=database)
    client = center.client("contributor")
    demo = envelopes.demo_inventory()
    other = msgspec.structs.replace(
        demo, image=msgspec.structs.replace(demo.image, config_digest=ONLY_MS, reference="ms:1",
                                            manifest_digest="", repo_tags=("ms:1",)),
    )  # fmt: skip
    post(client, inventory_envelope(demo))
    post(client, inventory_envelope(other))
    runtime = center.app.state.center
    ids = sorted(inv.image_id for inv, _ in _images(runtime).values())
    summary = match_images(_DeletingContext(runtime, ids[0], len(ids)), {"images": ids})(None)  # type: ignore[arg-type]
    assert summary["matched"] == 1 and list(summary["failed"]) == [str(ids[0])]
    assert "deleted meanwhile" in summary["failed"][str(ids[0])]
    assert client.get(f"/api/v1/images/{ONLY_MS}").json()["counts"]["total"] == 4


@both_backends
def test_the_changes_between_two_databases_are_compared_once_and_few_are_kept(
    make_center, tmp_path: Path
) -> None:
    import datetime as dt

    from seawall.center.jobs.untouched import AdvisoryChanges, changes_since, current_state
    from seawall.vulndb.footprint import StoreState

    database = demo_database(tmp_path / "db")
    center = make_center(advisory_db=database)
    runtime = center.app.state.center
    Worker(runtime).match_pending()  # the current database's state is stored
    store = AdvisoryStore.open(database)
    current = StoreState.of(store)
    olders = [f"2026-01-0{n}T00:00:00Z" for n in range(1, 7)]
    with runtime.sessions() as session, session.begin():
        for number, older in enumerate(olders):  # each held one key the current has not
            packages = {**current.packages, 2**31 + number: 1}
            state = StoreState(current.matching, packages, current.advisories)
            session.add(AdvisoryState(built_at=older, created_at=dt.datetime.now(dt.UTC),
                                      data=state.encode()))  # fmt: skip
    changes = AdvisoryChanges()
    with runtime.sessions() as session:
        built_at = store.describe()["built_at"]
        expected = changes_since(session, store, current_state(session, built_at), among=olders)
        assert changes.since(session, store, olders[:2]) == {o: expected[o] for o in olders[:2]}
        assert all(len(expected[o]) == 1 for o in olders)
    with runtime.sessions() as session, session.begin():  # the stored states are gone...
        session.query(AdvisoryState).filter(AdvisoryState.built_at.in_(olders)).delete()
    with runtime.sessions() as session:  # ...but the pairs compared are kept
        assert changes.since(session, store, olders[:2]) == {o: expected[o] for o in olders[:2]}
        assert changes.since(session, store, olders[2:]) == {}  # never compared, now unknown
        assert len(changes) <= AdvisoryChanges.PAIRS
    store.close()
