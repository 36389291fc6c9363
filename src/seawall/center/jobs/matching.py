"""Re-matching stored inventories when the advisory database changes, as jobs: nothing is
pulled from a registry, the stored inventory is matched with the current database and its
result ingested like any scan.

The upkeep queues one ``match_images`` job per :data:`CHUNK` images not matched with the
current database yet (keyed by database and first image, so asking again joins the jobs
already queued); job threads or ``seawall worker`` processes share them. A job stores each
image as it goes, in a transaction of its own: matching is idempotent (ingest follows
findings by fingerprint), so a job interrupted and run again only repeats work, and short
transactions keep the API's ingest fast meanwhile. An image whose inventory cannot be
matched is reported in the job's result and marked matched, so it is not retried forever.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from seawall.center.jobs import queue
from seawall.center.jobs.execution import JobContext, JobFailure, Store
from seawall.center.security.roles import Principal, Role
from seawall.center.security.scope import EVERYTHING
from seawall.center.store.models import StoredInventory
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
    """Match the job's images with the current advisory database, each image matched
    outside any transaction and stored in a short one of its own (on SQLite a long write
    transaction would hold every other writer, the API's ingest included, for its length)."""
    from seawall.vulndb.store import AdvisoryStore

    try:
        store = AdvisoryStore.open(context.center.config.advisory_db)
    except SeawallError as exc:
        raise JobFailure(str(exc), retryable=True) from None
    problems: dict[int, str] = {}
    matched = 0
    try:
        description = store.describe()
        for image_id in payload["images"]:
            context.check()
            problem = _match_one(context, store, description, int(image_id))
            if problem:
                problems[int(image_id)] = problem
                log.warning("matching image %s failed: %s", image_id, problem)
            else:
                matched += 1
    finally:
        store.close()
    summary = {
        "matched": matched,
        "database": description.get("built_at", ""),
        "failed": {str(k): v[:300] for k, v in list(problems.items())[:20]},
    }
    return lambda _session: summary


def _match_one(context: JobContext, store: Any, description: dict[str, str], image_id: int) -> str:
    """Match one stored image and store the result; a problem in words, or ""."""
    from seawall.center.ingest import ingest, load_inventory, unchanged_rematch
    from seawall.report.envelope.image import scan_envelope
    from seawall.vulndb.scan import ScanOptions, scan_inventory

    with context.center.sessions() as session:
        inventory = load_inventory(session, image_id)
    problem = ""
    envelope: Envelope | None = None
    if inventory is not None:
        try:
            report = scan_inventory(inventory, store, ScanOptions(), description)
            envelope = scan_envelope(report)
        except Exception as exc:  # one bad inventory is reported and skipped
            problem = f"{type(exc).__name__}: {exc}"
    if envelope is not None:
        try:
            with context.center.sessions() as session, session.begin():
                now = dt.datetime.now(dt.UTC)
                if not unchanged_rematch(session, image_id, envelope, now):
                    ingest(session, envelope, MATCHER, now)
                _matched(session, image_id, description)
            return problem
        except OperationalError:  # the database, not the image: the job is tried again
            raise
        except Exception as exc:  # e.g. the image was deleted meanwhile
            problem = f"{type(exc).__name__}: {exc}"
    with context.center.sessions() as session, session.begin():
        _matched(session, image_id, description)
    return problem


def _matched(session: Session, image_id: int, description: dict[str, str]) -> None:
    """Mark the image matched with this database (no savepoint: on SQLite a savepoint
    starts a transaction at its first read, and its first write then fails at once when
    another writer committed meanwhile)."""
    row = session.get(StoredInventory, image_id)
    if row is not None:
        row.matched_with = description.get("built_at", "")
