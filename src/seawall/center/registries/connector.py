"""Watched registries: adding one (with the secret its notifications carry), applying its
events to what the center knows of its images, and queuing the scans they call for.

A push of a manifest not scanned yet queues a scan of that digest (an index's platforms are
queued by the scan itself); a pull records when the image was last pulled (the rescan
policy keeps recently pulled images fresh); a delete marks it deleted, and the image leaves
the inventory unless it runs somewhere or another repository holds it. Event times only
move forward, so a duplicate or a late event changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seawall.center import audit
from seawall.center.jobs import queue
from seawall.center.registries.events import MEDIA_TYPE, RegistryEvent
from seawall.center.security.secrets import digest, new_secret, same
from seawall.center.security.vault import Vault
from seawall.center.store.models import Asset, ImageDigest, JobRow, RegistryImage, RegistryRow

SECRET_HEADER = "Seawall-Registry-Secret"  # noqa: S105 (a header name)
SCAN_JOB = "scan_image"
_URL = re.compile(r"^(https?)://([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?/?$")


class RegistryProblem(ValueError):
    """A registry that cannot be added as given (bad URL, name taken)."""


@dataclass(frozen=True)
class NewRegistry:
    """A registry just added, with its notification secret (shown once, stored hashed)."""

    row: RegistryRow
    secret: str


def registry_name(url: str) -> tuple[str, bool]:
    """``https://registry.example:5000`` -> (``registry.example:5000``, plain HTTP?)."""
    match = _URL.match(url.strip())
    if not match or (match.group(3) and not 0 < int(match.group(3)) < 65536):
        raise RegistryProblem(
            f"{url[:200]!r} is not a registry URL (expected http(s)://host[:port])"
        )
    scheme, host, port = match.groups()
    return (f"{host.lower()}:{port}" if port else host.lower()), scheme == "http"


def add_registry(
    session: Session,
    vault: Vault,
    *,
    url: str,
    username: str,
    password: str,
    by: str,
    now: dt.datetime,
) -> NewRegistry:
    """Store a registry to watch (and say so in the audit trail); its password sealed, its
    notification secret hashed."""
    name, plain = registry_name(url)
    if session.scalar(select(RegistryRow.id).where(RegistryRow.name == name)) is not None:
        raise RegistryProblem(f"registry {name} is already watched")
    secret = new_secret()
    row = RegistryRow(
        name=name,
        url=url.strip().rstrip("/"),
        username=username,
        password=vault.seal(password),
        secret_hash=digest(secret),
        insecure=plain,
        created_at=now,
        created_by=by,
        last_error="",
    )
    session.add(row)
    session.flush()
    audit.record(session, by, "registry.add", row.name, url=row.url)
    return NewRegistry(row=row, secret=secret)


def image_counts(session: Session) -> dict[int, int]:
    """How many manifests the center knows in each watched registry, in one query."""
    counted = select(RegistryImage.registry_id, func.count()).group_by(RegistryImage.registry_id)
    return {registry: count for registry, count in session.execute(counted)}


def secret_matches(row: RegistryRow, presented: str) -> bool:
    return bool(presented) and same(digest(presented), row.secret_hash)


def notifications_block(center_url: str, row: RegistryRow, secret: str) -> str:
    """The ``notifications:`` section to paste into the registry's ``config.yml``."""
    endpoint = {
        "name": "seawall",
        "url": f"{center_url.rstrip('/')}/api/v1/registries/{row.id}/events",
        "headers": {SECRET_HEADER: [secret]},
        "timeout": "5s",
        "threshold": 5,
        "backoff": "10s",
        "ignoredmediatypes": ["application/octet-stream"],
        "ignore": {"actions": ["mount"]},
    }
    return yaml.safe_dump(
        {"notifications": {"events": {"includereferences": True}, "endpoints": [endpoint]}},
        sort_keys=False,
    )


@dataclass
class Applied:
    """What a batch of events did."""

    queued: int = 0
    pulled: int = 0
    deleted: int = 0


def apply_events(
    session: Session, row: RegistryRow, events: list[RegistryEvent], now: dt.datetime
) -> Applied:
    """Record each event against its image and queue the scans pushes call for."""
    applied = Applied()
    for event in events:
        image = session.get(RegistryImage, (row.id, event.repository, event.digest))
        if image is None:
            image = new_image(row.id, event.repository, event.digest)
            session.add(image)
        if event.action == "push":
            image.pushed_at = _later(image.pushed_at, event.at)
            image.media_type = event.media_type or image.media_type
            if event.tag and event.tag not in image.tags:
                image.tags = sorted([*image.tags, event.tag])[:100]
            if image.scanned_at is None and queue_scan(session, row, image, queue.PUSH, now):
                applied.queued += 1
        elif event.action == "pull":
            image.pulled_at = _later(image.pulled_at, event.at)
            applied.pulled += 1
        else:
            image.deleted_at = _later(image.deleted_at, event.at)
            applied.deleted += 1
            if not is_live(image):
                _retire(session, event.digest)
    row.last_event_at = now
    return applied


def queue_scan(
    session: Session,
    row: RegistryRow,
    image: RegistryImage,
    priority: int,
    now: dt.datetime,
    requested_by: str = "",
) -> bool:
    """Queue a scan of ``image`` (joining one already queued); True if a job was created."""
    tag = image.tags[0] if image.tags else ""
    _, created = enqueue_scan(
        session, row, image.repository, image.digest, tag, priority, now,
        requested_by or f"registry:{row.name}",
    )  # fmt: skip
    return created


def enqueue_scan(
    session: Session,
    row: RegistryRow,
    repository: str,
    digest: str,
    tag: str,
    priority: int,
    now: dt.datetime,
    requested_by: str,
) -> tuple[JobRow, bool]:
    """The scan job of ``repository`` at ``digest`` (or, without one, at ``tag``, resolved
    when the job runs), created unless one is queued: ``(job, created)``."""
    reference = f"{row.name}/{repository}{':' + tag if tag else ''}"
    return queue.enqueue(
        session,
        kind=SCAN_JOB,
        key=f"scan:{row.id}:{repository}@{digest or tag or 'latest'}",
        title=f"scan {reference}{'@' + digest if digest else ''}",
        payload={
            "registry": row.id,
            "repository": repository,
            "digest": digest,
            "tag": tag,
        },
        priority=priority,
        now=now,
        requested_by=requested_by,
    )


def new_image(registry_id: int, repository: str, digest: str, tag: str = "") -> RegistryImage:
    """A manifest the center has not seen in this repository yet."""
    return RegistryImage(
        registry_id=registry_id,
        repository=repository,
        digest=digest,
        tags=[tag] if tag else [],
        media_type="",
        scanned_with="",
    )


def is_live(image: RegistryImage) -> bool:
    """Not deleted since it was last pushed."""
    return image.deleted_at is None or (
        image.pushed_at is not None and image.pushed_at > image.deleted_at
    )


def _retire(session: Session, digest: str) -> None:
    """The image deleted from the registry leaves the inventory, unless it still runs
    somewhere or another repository still holds it."""
    session.flush()
    elsewhere = session.scalars(select(RegistryImage).where(RegistryImage.digest == digest))
    if any(is_live(image) for image in elsewhere):
        return
    image_id = session.scalar(select(ImageDigest.image_id).where(ImageDigest.digest == digest))
    asset = session.get(Asset, image_id) if image_id is not None else None
    if asset is not None and not asset.running:
        asset.gone = True


def _later(current: dt.datetime | None, candidate: dt.datetime) -> dt.datetime:
    return candidate if current is None or candidate > current else current


__all__ = ["MEDIA_TYPE"]
