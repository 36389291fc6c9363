"""The ``list_catalog`` job: find the images of a watched registry that arrived without a
notification (imported, copied with skopeo, pushed before the registry was watched) by
listing its catalog and each repository's tags, and queue scans of the ones not scanned.

Bounded: at most :data:`MAX_REPOSITORIES` repositories and :data:`MAX_TAGS` tags each per
listing (a registry bigger than that is listed in part, and says so in the job's result).
Each tag costs one manifest request; the scans it queues are scheduled work, behind pushes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.center.jobs import queue
from seawall.center.jobs.execution import JobContext, JobFailure, Store
from seawall.center.registries.connector import is_live, new_image, queue_scan
from seawall.center.security.vault import SecretUnreadable
from seawall.center.store.models import RegistryImage, RegistryRow
from seawall.errors import InputError
from seawall.image.reference import parse_reference
from seawall.image.source import SourceOptions

CATALOG_JOB = "list_catalog"
MAX_REPOSITORIES = 10_000
MAX_TAGS = 1_000


def queue_listing(
    session: Session, row: RegistryRow, priority: int, now: dt.datetime, by: str = ""
) -> bool:
    """Queue a listing of ``row`` (joining one already queued); True if one was created."""
    _, created = queue.enqueue(
        session,
        kind=CATALOG_JOB,
        key=f"catalog:{row.id}",
        title=f"list the catalog of {row.name}",
        payload={"registry": row.id},
        priority=priority,
        now=now,
        requested_by=by or "seawall:catalog-schedule",
    )
    return created


def queue_due_listings(session: Session, now: dt.datetime) -> int:
    """Queue the listings the registries' ``catalog_minutes`` call for; how many."""
    queued = 0
    for row in session.scalars(select(RegistryRow).where(RegistryRow.catalog_minutes > 0)):
        due = row.last_catalog_at is None or (
            row.last_catalog_at <= now - dt.timedelta(minutes=row.catalog_minutes)
        )
        if due:
            queued += queue_listing(session, row, queue.SCHEDULED, now)
    return queued


def list_catalog(context: JobContext, payload: dict[str, Any]) -> Store:
    """List the registry: every (repository, digest, tags) it holds now."""
    from seawall.image.registry_client import RegistryClient

    with context.center.sessions() as session:
        row = session.get(RegistryRow, int(payload["registry"]))
        if row is None:
            raise JobFailure("the registry was removed", retryable=False)
        name, username, sealed, insecure = row.name, row.username, row.password, row.insecure
    try:
        password = context.center.vault.open(sealed)
    except SecretUnreadable as exc:
        raise JobFailure(str(exc), retryable=False) from None
    options = SourceOptions(username=username, password=password, insecure=insecure)
    found: dict[tuple[str, str], set[str]] = {}
    problems: list[str] = []  # repositories and tags skipped: their answers made no sense
    catalog = RegistryClient(parse_reference(f"{name}/catalog"), options)
    try:
        repositories = catalog.listing("/_catalog", "repositories", "catalog", MAX_REPOSITORIES)
    finally:
        catalog.close()
    for repository in repositories:
        context.check()
        try:
            _list_repository(name, repository, options, found, problems)
        except InputError as exc:  # a bad name or tag list: reported, the others listed
            problems.append(f"{repository}: {exc}")

    def store(session: Session) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        registry = session.get(RegistryRow, int(payload["registry"]))
        if registry is None:
            return {"images": 0}
        queued = 0
        for (repository, digest), tags in found.items():
            image = session.get(RegistryImage, (registry.id, repository, digest))
            if image is None:
                image = new_image(registry.id, repository, digest)
                session.add(image)
            image.tags = sorted(set(image.tags) | tags)[:100]
            session.flush()
            if image.scanned_at is None and is_live(image):
                queued += queue_scan(session, registry, image, queue.SCHEDULED, now,
                                     "seawall:catalog")  # fmt: skip
        registry.last_catalog_at = now
        return {"repositories": len(repositories), "images": len(found), "queued": queued,
                "partial": len(repositories) >= MAX_REPOSITORIES,
                "skipped": len(problems), "problems": [p[:300] for p in problems[:20]]}  # fmt: skip

    return store


def _list_repository(
    registry: str,
    repository: str,
    options: SourceOptions,
    found: dict[tuple[str, str], set[str]],
    problems: list[str],
) -> None:
    """Add each tag of ``repository`` under its manifest's digest to ``found``; a tag that is
    no tag, or whose manifest makes no sense, is skipped and named in ``problems``. A
    registry that fails (down, refusing) fails the whole listing, which is tried again."""
    from seawall.image.registry_client import RegistryClient

    client = RegistryClient(parse_reference(f"{registry}/{repository}"), options)
    try:
        for tag in client.listing("tags/list", "tags", "tag list", MAX_TAGS):
            try:
                parse_reference(f"{registry}/{repository}:{tag}")  # a tag, not a path
                _, digest = client.manifest(tag)
            except InputError as exc:
                problems.append(f"{repository}:{tag}: {exc}")
                continue
            found.setdefault((repository, digest), set()).add(tag)
    finally:
        client.close()
