"""Re-matching stored inventories when the advisory database changes, as jobs: nothing is
pulled from a registry, the stored inventory is matched with the current database and its
result ingested like any scan.

Inventories the update did not touch were settled before any job is queued
(:mod:`.untouched`). For the others the upkeep queues one ``match_images`` job per
:data:`CHUNK` images (keyed by database and first image, so asking again joins the jobs
already queued); job threads or ``seawall worker`` processes share them. A job stores each
image as it goes, in a transaction of its own: matching is idempotent (ingest follows
findings by fingerprint), so a job interrupted and run again only repeats work, and short
transactions keep the API's ingest fast meanwhile. An image whose inventory cannot be
matched is reported in the job's result and marked matched, so it is not retried forever.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import msgspec
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from seawall.center.jobs import queue
from seawall.center.jobs.execution import JobContext, JobFailure, Store
from seawall.center.security.roles import Principal, Role
from seawall.center.security.scope import EVERYTHING
from seawall.center.store.database import transient, update_rows
from seawall.center.store.models import Asset, StoredInventory
from seawall.contract import Envelope
from seawall.errors import SeawallError

if TYPE_CHECKING:
    from seawall.center.jobs.untouched import AdvisoryChanges
    from seawall.vulndb.match import Matcher
    from seawall.vulndb.store import AdvisoryStore

log = logging.getLogger(__name__)
MATCH_JOB = "match_images"
CHUNK = 100
MAX_QUEUED = 20_000  # images queued per round at most (the next round queues the rest)
# images stored per transaction. On SQLite every other writer (the API's ingest) waits for
# it at the write gate: 4 (~20 ms) made the bench's ten-package re-match 46 s instead of
# 78 s with one, the ingest meanwhile 70 ms at the median (58 ms with one). On PostgreSQL
# 20, to save round trips and recount once.
_BATCH = {"sqlite": 4, "postgresql": 20}
MATCHER = Principal(name="seawall:matcher", role=Role.OWNER, scope=EVERYTHING)


def queue_matching(session: Session, built_at: str, now: dt.datetime) -> int:
    """Queue jobs for every image not matched with the database ``built_at``; how many
    jobs were created."""
    pending = list(
        session.scalars(
            select(StoredInventory.image_id)
            .where(StoredInventory.matched_with != built_at)
            .order_by(StoredInventory.image_id)
            .limit(MAX_QUEUED)
        )
    )
    created = 0
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start : start + CHUNK]
        _, new = queue.enqueue(
            session,
            kind=MATCH_JOB,
            key=f"match:{built_at}:{chunk[0]}",
            title=f"match {len(chunk)} stored image(s) with the advisories of {built_at}",
            payload={"images": chunk},
            priority=queue.REMATCH,
            now=now,
            requested_by="seawall:advisory-update",
        )
        created += new
    return created


def match_images(context: JobContext, payload: dict[str, Any]) -> Store:
    """Match the job's images with the current advisory database.

    An image matched with an earlier database whose state is kept is matched again in part:
    only its packages whose advisories changed (:func:`~seawall.vulndb.footprint.touched_names`),
    and only their findings are followed; the others are matched in full. One
    :class:`~seawall.vulndb.match.Matcher` serves the whole job (images share their base
    packages: each package version is looked up once). Fully matched images whose findings
    did not change are settled together in one short transaction
    (:func:`unchanged_rematches`); each of the others is ingested in a short transaction of
    its own (on SQLite a long write transaction would hold every other writer, the API's
    ingest included, for its length)."""
    from seawall.vulndb.match import Matcher
    from seawall.vulndb.store import AdvisoryStore

    try:
        store = AdvisoryStore.open(context.center.config.advisory_db)
    except SeawallError as exc:
        raise JobFailure(str(exc), retryable=True) from None
    job = _Job(built_at=store.describe().get("built_at", ""))
    try:
        _match_all(context, store, Matcher(store), payload, job)
    finally:
        store.close()
    changed = _settle_unchanged(context, job)
    batch = _BATCH.get(context.center.engine.dialect.name, 1)
    for start in range(0, len(changed), batch):
        context.check()
        _ingest_batch(context, changed[start : start + batch], job)
    for image_id, problem in job.problems.items():
        log.warning("matching image %s failed: %s", image_id, problem)
    summary = {
        "matched": len(job.envelopes) - len(job.problems),
        "changed": len(changed),
        "in_part": len(job.parts),
        "database": job.built_at,
        "failed": {str(k): v[:300] for k, v in list(job.problems.items())[:20]},
    }
    return lambda _session: summary


@dataclass
class _Job:
    """What a match job found, image by image."""

    built_at: str
    envelopes: dict[int, Envelope] = field(default_factory=dict)
    footprints: dict[int, bytes] = field(default_factory=dict)  # what each match read
    parts: dict[int, frozenset[str]] = field(default_factory=dict)  # matched in part: names
    problems: dict[int, str] = field(default_factory=dict)


def _match_all(
    context: JobContext, store: AdvisoryStore, matcher: Matcher, payload: dict[str, Any], job: _Job
) -> None:
    """The scan envelope of each image of the job, in full or in part (outside any
    transaction)."""
    from seawall.center.ingest import load_inventories
    from seawall.report.envelope.image import scan_envelope
    from seawall.vulndb.footprint import footprint, touched_names
    from seawall.vulndb.scan import ScanOptions, scan_inventory

    description = store.describe()
    image_ids = [int(i) for i in payload["images"]]
    with context.center.sessions() as session:
        inventories = load_inventories(session, image_ids)
        earlier = _earlier_matches(session, store, image_ids, context.center.advisory_changes)
    for image_id, inventory in inventories.items():
        context.check()
        try:
            if image_id in earlier:
                changed, read = earlier[image_id]
                names = touched_names(inventory, changed)
                inventory = msgspec.structs.replace(
                    inventory, packages=tuple(p for p in inventory.packages if p.name in names)
                )
                job.parts[image_id], job.footprints[image_id] = names, read
            else:
                job.footprints[image_id] = footprint(inventory)
            report = scan_inventory(inventory, store, ScanOptions(), description, matcher)
            job.envelopes[image_id] = scan_envelope(report)
        except Exception as exc:  # one bad inventory is reported and skipped
            job.problems[image_id] = f"{type(exc).__name__}: {exc}"
    for image_id in job.problems:  # marked matched: matching it again would fail again
        with context.center.sessions() as session, session.begin():
            _matched(session, [image_id], job.built_at, {})


def _earlier_matches(
    session: Session, store: AdvisoryStore, image_ids: list[int], advisory_changes: AdvisoryChanges
) -> dict[int, tuple[frozenset[int], bytes]]:
    """For the images that can be matched in part (matched with an earlier database whose
    state is kept, their footprint known): the keys changed since, and the footprint. The
    changes are those of the databases these images were matched with (a job of first
    matches or uploaded scans asks for none), each pair compared once by the center."""
    rows = [
        (image_id, matched_with, read)
        for image_id, matched_with, read in session.execute(
            select(
                StoredInventory.image_id, StoredInventory.matched_with, StoredInventory.footprint
            ).where(StoredInventory.image_id.in_(image_ids), StoredInventory.footprint.is_not(None))
        )
        if read is not None
    ]
    if not rows:
        return {}
    changes = advisory_changes.since(session, store, {m for _, m, _ in rows})
    return {i: (changes[m], read) for i, m, read in rows if m in changes}


def _settle_unchanged(context: JobContext, job: _Job) -> list[int]:
    """Settle the images whose findings did not change; the ids of the others (to ingest)."""
    from seawall.center.ingest import unchanged_rematches

    whole = {i: e for i, e in job.envelopes.items() if i not in job.parts}
    with context.center.sessions() as session, session.begin():
        same = unchanged_rematches(session, whole, dt.datetime.now(dt.UTC))
        _matched(session, sorted(same), job.built_at, job.footprints)
    return [image_id for image_id in job.envelopes if image_id not in same]


def _ingest_batch(context: JobContext, image_ids: list[int], job: _Job) -> None:
    """Store a few images' results in one transaction; when that fails for something other
    than the database, each on its own, so one bad image is named and the others stored."""
    try:
        with context.center.sessions() as session, session.begin():
            _store(session, image_ids, job)
        return
    except Exception as exc:
        if transient(exc):  # the database, not the images: the job is tried again
            raise
        if len(image_ids) == 1:
            job.problems[image_ids[0]] = f"{type(exc).__name__}: {exc}"
            with context.center.sessions() as session, session.begin():
                _matched(session, image_ids, job.built_at, {})
            return
    for image_id in image_ids:
        _ingest_batch(context, [image_id], job)


def _store(session: Session, image_ids: list[int], job: _Job) -> None:
    from seawall.center.ingest import Rematch, ingest_rematches

    images = {
        image.id: image for image in session.scalars(select(Asset).where(Asset.id.in_(image_ids)))
    }
    rematches = []
    for image_id in image_ids:
        if image_id not in images:
            raise LookupError(f"image {image_id} was deleted meanwhile")
        rematches.append(
            Rematch(images[image_id], job.envelopes[image_id], job.parts.get(image_id))
        )
    ingest_rematches(session, rematches, MATCHER, dt.datetime.now(dt.UTC))
    _matched(session, image_ids, job.built_at, job.footprints)


def _matched(
    session: Session, image_ids: list[int], built_at: str, footprints: dict[int, bytes]
) -> None:
    """Mark images matched with this database, with what their match read (None when it
    failed: the next database matches them again). No savepoint: on SQLite a savepoint
    starts a transaction at its first read, and its first write then fails at once when
    another writer committed meanwhile. An image deleted meanwhile is skipped
    (:func:`~seawall.center.store.database.update_rows`)."""
    rows = [
        {"image_id": i, "matched_with": built_at, "footprint": footprints.get(i)} for i in image_ids
    ]
    update_rows(session, cast(Table, StoredInventory.__table__), "image_id", rows)
