"""Re-matching stored inventories when the advisory database changes, as jobs: nothing is
pulled from a registry, the stored inventory is matched with the current database and its
result ingested like any scan.

The upkeep queues one ``match_images`` job per :data:`CHUNK` images not matched with the
current database yet (keyed by database and first image, so asking again joins the jobs
already queued); job threads or ``seawall worker`` processes share them. A job matches its
images outside any transaction and stores them in the one that marks it done; an image
whose inventory cannot be matched is reported in the job's result and marked matched, so it
is not retried forever. Repeating a job changes nothing (ingest follows findings by
fingerprint).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
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
    """Match the job's images with the current advisory database."""
    from seawall.center.ingest import load_inventory
    from seawall.report.envelope.image import scan_envelope
    from seawall.vulndb.scan import ScanOptions, scan_inventory
    from seawall.vulndb.store import AdvisoryStore

    try:
        store = AdvisoryStore.open(context.center.config.advisory_db)
    except SeawallError as exc:
        raise JobFailure(str(exc), retryable=True) from None
    envelopes: dict[int, Envelope] = {}
    problems: dict[int, str] = {}
    try:
        description = store.describe()
        built_at = description.get("built_at", "")
        with context.center.sessions() as session:
            for image_id in payload["images"]:
                context.check()
                inventory = load_inventory(session, int(image_id))
                if inventory is None:
                    continue
                try:
                    report = scan_inventory(inventory, store, ScanOptions(), description)
                    envelopes[int(image_id)] = scan_envelope(report)
                except Exception as exc:  # one bad inventory is reported and skipped
                    problems[int(image_id)] = f"{type(exc).__name__}: {exc}"
    finally:
        store.close()

    def stored(session: Session) -> dict[str, Any]:
        from seawall.center.ingest import ingest

        now = dt.datetime.now(dt.UTC)
        for image_id, envelope in envelopes.items():
            try:
                with session.begin_nested():
                    ingest(session, envelope, MATCHER, now)
            except Exception as exc:  # e.g. the image was deleted meanwhile
                problems[image_id] = f"{type(exc).__name__}: {exc}"
        for row in session.scalars(
            select(StoredInventory).where(StoredInventory.image_id.in_(payload["images"]))
        ):
            row.matched_with = built_at
        for image_id, problem in problems.items():
            log.warning("matching image %s failed: %s", image_id, problem)
        return {"matched": len(envelopes) - len(problems), "database": built_at,
                "failed": {str(k): v[:300] for k, v in list(problems.items())[:20]}}  # fmt: skip

    return stored
