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
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from seawall.center.jobs import queue
from seawall.center.jobs.execution import JobContext, JobFailure, Store
from seawall.center.security.roles import Principal, Role
from seawall.center.security.scope import EVERYTHING
from seawall.center.store.models import Asset, StoredInventory
from seawall.contract import Envelope
from seawall.errors import SeawallError

log = logging.getLogger(__name__)
MATCH_JOB = "match_images"
CHUNK = 100
MAX_QUEUED = 20_000  # images queued per round at most (the next round queues the rest)
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

    One :class:`~seawall.vulndb.match.Matcher` serves the whole job (images share their base
    packages: each package version is looked up once). Images whose findings did not change
    are settled together in one short transaction (:func:`unchanged_rematches`); each of the
    others is ingested in a short transaction of its own (on SQLite a long write transaction
    would hold every other writer, the API's ingest included, for its length)."""
    from seawall.vulndb.match import Matcher
    from seawall.vulndb.store import AdvisoryStore

    try:
        store = AdvisoryStore.open(context.center.config.advisory_db)
    except SeawallError as exc:
        raise JobFailure(str(exc), retryable=True) from None
    problems: dict[int, str] = {}
    footprints: dict[int, bytes] = {}
    try:
        description = store.describe()
        envelopes = _match_all(
            context, store, Matcher(store), description, payload, problems, footprints
        )
    finally:
        store.close()
    built_at = description.get("built_at", "")
    changed = _settle_unchanged(context, envelopes, built_at, footprints)
    for image_id in changed:
        context.check()
        problem = _ingest_one(context, image_id, envelopes[image_id], built_at, footprints)
        if problem:
            problems[image_id] = problem
    for image_id, problem in problems.items():
        log.warning("matching image %s failed: %s", image_id, problem)
    summary = {
        "matched": len(envelopes) - len(problems),
        "changed": len(changed),
        "database": built_at,
        "failed": {str(k): v[:300] for k, v in list(problems.items())[:20]},
    }
    return lambda _session: summary


def _match_all(
    context: JobContext,
    store: Any,
    matcher: Any,
    description: dict[str, str],
    payload: dict[str, Any],
    problems: dict[int, str],
    footprints: dict[int, bytes],
) -> dict[int, Envelope]:
    """The scan envelope of each image of the job (outside any transaction), and in
    ``footprints`` what each match read (:func:`~seawall.vulndb.footprint.footprint`)."""
    from seawall.center.ingest import load_inventories
    from seawall.report.envelope.image import scan_envelope
    from seawall.vulndb.footprint import footprint
    from seawall.vulndb.scan import ScanOptions, scan_inventory

    envelopes: dict[int, Envelope] = {}
    with context.center.sessions() as session:
        inventories = load_inventories(session, [int(i) for i in payload["images"]])
    for image_id, inventory in inventories.items():
        context.check()
        try:
            report = scan_inventory(inventory, store, ScanOptions(), description, matcher)
            envelopes[image_id] = scan_envelope(report)
            footprints[image_id] = footprint(inventory)
        except Exception as exc:  # one bad inventory is reported and skipped
            problems[image_id] = f"{type(exc).__name__}: {exc}"
    for image_id in problems:  # marked matched: matching it again would fail again
        with context.center.sessions() as session, session.begin():
            _matched(session, [image_id], description.get("built_at", ""), footprints)
    return envelopes


def _settle_unchanged(
    context: JobContext, envelopes: dict[int, Envelope], built_at: str, footprints: dict[int, bytes]
) -> list[int]:
    """Settle the images whose findings did not change; the ids of the others."""
    from seawall.center.ingest import unchanged_rematches

    with context.center.sessions() as session, session.begin():
        same = unchanged_rematches(session, envelopes, dt.datetime.now(dt.UTC))
        _matched(session, sorted(same), built_at, footprints)
    return [image_id for image_id in envelopes if image_id not in same]


def _ingest_one(
    context: JobContext,
    image_id: int,
    envelope: Envelope,
    built_at: str,
    footprints: dict[int, bytes],
) -> str:
    """Store one changed image's result; a problem in words, or ""."""
    from seawall.center.ingest import ingest_rematch

    problem = ""
    try:
        with context.center.sessions() as session, session.begin():
            image = session.get(Asset, image_id)
            if image is None:
                raise LookupError(f"image {image_id} was deleted meanwhile")
            ingest_rematch(session, image, envelope, MATCHER, dt.datetime.now(dt.UTC))
            _matched(session, [image_id], built_at, footprints)
        return ""
    except OperationalError:  # the database, not the image: the job is tried again
        raise
    except Exception as exc:  # e.g. the image was deleted meanwhile
        problem = f"{type(exc).__name__}: {exc}"
    with context.center.sessions() as session, session.begin():
        _matched(session, [image_id], built_at, {})
    return problem


def _matched(
    session: Session, image_ids: list[int], built_at: str, footprints: dict[int, bytes]
) -> None:
    """Mark images matched with this database, with what their match read (None when it
    failed: the next database matches them again). No savepoint: on SQLite a savepoint
    starts a transaction at its first read, and its first write then fails at once when
    another writer committed meanwhile. A Core UPDATE, not the ORM's by primary key, which
    fails on an image deleted meanwhile."""
    if image_ids:
        table = cast(Table, StoredInventory.__table__)
        session.execute(
            update(table)
            .where(table.c.image_id == bindparam("image"))
            .values(matched_with=built_at, footprint=bindparam("read")),
            [{"image": i, "read": footprints.get(i)} for i in image_ids],
        )
