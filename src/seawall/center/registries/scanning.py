"""The ``scan_image`` job: read one manifest of a watched registry, inventory it, match it
with the advisory database and store the result like any scan.

An index (a multi-platform image) is not read itself: each of its platforms is queued as a
scan of its own, at the same priority. The image's layers go through the center's layer
cache, so a rescan after an analyzer change reads only what changed. Without an advisory
database the inventory is stored and matched later, when one arrives.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from seawall.center.jobs import queue
from seawall.center.jobs.execution import JobContext, JobFailure, Store
from seawall.center.registries.connector import new_image, queue_scan
from seawall.center.security.roles import Principal, Role
from seawall.center.security.scope import EVERYTHING
from seawall.center.security.vault import SecretUnreadable
from seawall.center.store.models import JobRow, RegistryImage, RegistryRow
from seawall.errors import AuthenticationError, InputError
from seawall.image.manifest import index_entries, is_index, load_json
from seawall.image.reference import parse_reference
from seawall.image.source import SourceOptions
from seawall.inventory.scan import InventoryOptions

SCANNER = Principal(name="seawall:registry-scanner", role=Role.OWNER, scope=EVERYTHING)


def scan_image(context: JobContext, payload: dict[str, Any]) -> Store:
    """The job's slow part (network, layers, matching); the returned store writes it."""
    center = context.center
    with center.sessions() as session:
        row = session.get(RegistryRow, int(payload["registry"]))
        if row is None:
            raise JobFailure("the registry was removed", retryable=False)
        name, username, sealed, insecure = row.name, row.username, row.password, row.insecure
        priority = _priority(session, context.job_id)
    try:
        password = center.vault.open(sealed)
    except SecretUnreadable as exc:
        raise JobFailure(str(exc), retryable=False) from None
    repository, tag = str(payload["repository"]), str(payload.get("tag", ""))
    options = SourceOptions(username=username, password=password, insecure=insecure)
    try:
        # a manual scan names a tag: it is resolved to the digest it points to now
        digest, platforms = _manifest(
            f"{name}/{repository}", payload.get("digest") or tag or "latest", options
        )
        payload = {**payload, "digest": digest}
        if platforms:
            return _queue_platforms(payload, platforms, priority)
        reference = f"{name}/{repository}{':' + tag if tag else ''}@{digest}"
        context.check()
        envelope = center.scanner().scan(
            reference,
            InventoryOptions(
                source="registry",
                source_options=options,
                cache_dir=center.config.data_dir / "cache",
            ),
        )
    except AuthenticationError as exc:  # wrong credentials will not fix themselves
        raise JobFailure(str(exc), retryable=False) from None
    except InputError as exc:
        raise JobFailure(str(exc), retryable=False) from None

    def store(session: Session) -> dict[str, Any]:
        from seawall.center.ingest import ingest

        receipt = ingest(session, envelope, SCANNER, _now())
        key = (int(payload["registry"]), repository, digest)
        image = session.get(RegistryImage, key) or new_image(*key, tag)
        session.add(image)
        image.scanned_at = _now()
        image.scanned_with = center.code_fingerprint
        return {
            "asset": receipt.asset,
            "scan": receipt.scan,
            "new": receipt.new,
            "resolved": receipt.resolved,
        }

    return store


def _manifest(
    repository: str, selector: str, options: SourceOptions
) -> tuple[str, list[tuple[str, str]]]:
    """The digest of the manifest ``selector`` names, and for an index the (digest,
    platform) of each of its images ([] for a single image)."""
    from seawall.image.registry_client import RegistryClient

    separator = "@" if selector.startswith("sha256:") else ":"
    ref = parse_reference(f"{repository}{separator}{selector}")
    client = RegistryClient(ref, options)
    try:
        body, digest = client.manifest(ref.selector)
    finally:
        client.close()
    document = load_json(body, f"{ref}: manifest")
    if not is_index(document):
        return digest, []
    entries = index_entries(document, str(ref))
    return digest, [
        (e.digest, e.platform) for e in entries if not e.platform.startswith("unknown/")
    ]


def _queue_platforms(
    payload: dict[str, Any], platforms: list[tuple[str, str]], priority: int
) -> Store:
    def store(session: Session) -> dict[str, Any]:
        registry = session.get(RegistryRow, int(payload["registry"]))
        if registry is None:
            return {"platforms": 0}
        queued = 0
        for digest, _platform in platforms:
            key = (registry.id, str(payload["repository"]), digest)
            image = session.get(RegistryImage, key) or new_image(*key, str(payload["tag"]))
            session.add(image)
            session.flush()
            if image.scanned_at is None:  # pushed on its own before the index: done
                queued += queue_scan(session, registry, image, priority, _now())
        return {"platforms": len(platforms), "queued": queued}

    return store


def _priority(session: Session, job_id: int) -> int:
    job = session.get(JobRow, job_id)
    return job.priority if job is not None else queue.PUSH


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
