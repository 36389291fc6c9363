"""Watched registries: add, list, change, remove, scan an image now, and the endpoint their
notifications arrive at (authenticated by the registry's own secret, not a user token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header, HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.center import audit
from seawall.center.api.deps import DB, Contributor, Id, Owner, Reader, center, now
from seawall.center.api.schemas import (
    JobItem,
    NotificationReceipt,
    RegistryAdded,
    RegistryChange,
    RegistryCreate,
    ScanRequest,
    WatchedRegistry,
)
from seawall.center.jobs import queue
from seawall.center.registries.connector import (
    SECRET_HEADER,
    RegistryProblem,
    add_registry,
    apply_events,
    enqueue_scan,
    image_counts,
    notifications_block,
    secret_matches,
)
from seawall.center.registries.events import MEDIA_TYPE, BadNotification, parse_events
from seawall.center.security.roles import Principal
from seawall.center.security.scope import require_everything
from seawall.center.store.models import JobRow, RegistryRow
from seawall.errors import InputError
from seawall.image.reference import parse_reference

router = APIRouter(tags=["registries"])
MAX_NOTIFICATION_BYTES = 1024 * 1024
NOTIFICATION_TYPES = frozenset({MEDIA_TYPE, "application/json"})


def _item(session: Session, row: RegistryRow, images: int | None = None) -> WatchedRegistry:
    """The API's view of a registry (``images``: its count, when already known)."""
    if images is None:
        images = image_counts(session).get(row.id, 0)
    fields = {f: getattr(row, f) for f in WatchedRegistry.model_fields if hasattr(row, f)}
    fields.pop("password", None)
    return WatchedRegistry(**fields, has_password=bool(row.password), images=images)


def _visible(row: RegistryRow | None, caller: Principal) -> RegistryRow:
    if row is None or not caller.scope.permits({f"registry:{row.name}"}):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such registry")
    return row


@router.get("/registries", response_model=list[WatchedRegistry])
def list_watched(session: DB, caller: Reader) -> list[WatchedRegistry]:
    """The registries the center watches (in the caller's scope)."""
    rows = session.scalars(select(RegistryRow).order_by(RegistryRow.name))
    counts = image_counts(session)
    return [
        _item(session, row, counts.get(row.id, 0))
        for row in rows
        if caller.scope.permits({f"registry:{row.name}"})
    ]


@router.post("/registries", response_model=RegistryAdded, status_code=201)
def post_registry(
    request: Request, session: DB, caller: Owner, body: RegistryCreate
) -> RegistryAdded:
    """Watch a registry: its password is stored encrypted; the answer holds the
    notification secret (once) and the ``notifications:`` block for its config.yml."""
    require_everything(caller.scope)
    vault = center(request).vault
    try:
        added = add_registry(
            session,
            vault,
            url=body.url,
            username=body.username,
            password=body.password,
            by=caller.name,
            now=now(),
        )
    except RegistryProblem as exc:
        code = status.HTTP_409_CONFLICT if "already" in str(exc) else 422
        raise HTTPException(code, str(exc)) from None
    center_url = body.center_url or str(request.base_url)
    return RegistryAdded(
        **_item(session, added.row).model_dump(),
        secret=added.secret,
        notifications=notifications_block(center_url, added.row, added.secret),
    )


@router.get("/registries/{registry_id}", response_model=WatchedRegistry)
def get_registry(session: DB, caller: Reader, registry_id: Id) -> WatchedRegistry:
    return _item(session, _visible(session.get(RegistryRow, registry_id), caller))


@router.patch("/registries/{registry_id}", response_model=WatchedRegistry)
def patch_registry(
    request: Request, session: DB, caller: Owner, registry_id: Id, body: RegistryChange
) -> WatchedRegistry:
    """Change the credentials or the rescan policy."""
    require_everything(caller.scope)
    row = _visible(session.get(RegistryRow, registry_id), caller)
    changes = body.model_dump(exclude_none=True)
    if "password" in changes:
        row.password = center(request).vault.seal(changes.pop("password"))
    for name, value in changes.items():
        setattr(row, name, value)
    audit.record(session, caller, "registry.change", row.name, fields=sorted(body.model_fields_set))
    return _item(session, row)


@router.delete("/registries/{registry_id}", status_code=204)
def delete_registry(session: DB, caller: Owner, registry_id: Id) -> None:
    """Stop watching a registry (its images stay in the inventory)."""
    require_everything(caller.scope)
    row = _visible(session.get(RegistryRow, registry_id), caller)
    audit.record(session, caller, "registry.remove", row.name)
    session.delete(row)


@router.post("/registries/{registry_id}/scan", response_model=JobItem, status_code=202)
def post_scan(
    request: Request,
    background: BackgroundTasks,
    session: DB,
    caller: Contributor,
    registry_id: Id,
    body: ScanRequest,
) -> JobItem:
    """Scan an image of this registry now, before any scheduled work."""
    from seawall.center.api.routers.jobs import job_item

    row = _visible(session.get(RegistryRow, registry_id), caller)
    try:
        ref = parse_reference(f"{row.name}/{body.image}")
    except InputError as exc:
        raise HTTPException(422, f"image: {exc}") from None
    if ref.registry != row.name:
        raise HTTPException(422, f"image: {body.image!r} is not a repository of {row.name}")
    job, _ = enqueue_scan(
        session, row, ref.repository, ref.digest, ref.tag if not ref.digest else "",
        queue.MANUAL, now(), caller.name,
    )  # fmt: skip
    session.flush()
    _wake_jobs(request, background)
    return job_item(job)


@router.post("/registries/{registry_id}/list", response_model=JobItem, status_code=202)
def post_listing(
    request: Request, background: BackgroundTasks, session: DB, caller: Contributor, registry_id: Id
) -> JobItem:
    """List the registry's catalog and tags now (finds images pushed without a
    notification); their scans follow as scheduled work."""
    from seawall.center.api.routers.jobs import job_item
    from seawall.center.registries.catalog import queue_listing

    row = _visible(session.get(RegistryRow, registry_id), caller)
    queue_listing(session, row, queue.MANUAL, now(), caller.name)
    session.flush()
    job = session.scalars(
        select(JobRow).where(JobRow.key == f"catalog:{row.id}").order_by(JobRow.id.desc())
    ).first()
    assert job is not None
    _wake_jobs(request, background)
    return job_item(job)


@router.post(
    "/registries/{registry_id}/events",
    response_model=NotificationReceipt,
    openapi_extra={
        "security": [],
        "requestBody": {"required": True, "content": {MEDIA_TYPE: {"schema": {"type": "object"}}}},
    },
)
async def post_events(
    request: Request,
    background: BackgroundTasks,
    registry_id: Id,
    secret: Annotated[str, Header(alias=SECRET_HEADER, max_length=200)] = "",
) -> NotificationReceipt:
    """The registry's notifications (``notifications.endpoints`` of its config.yml): a push
    queues a scan of the manifest, a pull records when it was pulled, a delete marks it
    deleted. Authenticated by the registry's secret in the ``Seawall-Registry-Secret``
    header; a wrong or missing secret is refused with nothing changed."""
    owner = center(request)
    with owner.sessions() as session:
        row = session.get(RegistryRow, registry_id)
        if row is None or not secret_matches(row, secret):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown registry or wrong secret")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in NOTIFICATION_TYPES:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"send {MEDIA_TYPE}")
    body = await _bounded_body(request)
    with owner.sessions() as session, session.begin():
        row = session.get(RegistryRow, registry_id)
        if row is None:  # removed meanwhile
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown registry or wrong secret")
        received = now()
        try:
            events, skipped = parse_events(body, received)
        except BadNotification as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
        applied = apply_events(session, row, events, received)
    if applied.queued:
        _wake_jobs(request, background)
    return NotificationReceipt(events=len(events), queued=applied.queued, skipped=skipped[:20])


async def _bounded_body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_NOTIFICATION_BYTES:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"notification larger than {MAX_NOTIFICATION_BYTES} bytes",
            )
    return bytes(body)


def _wake_jobs(request: Request, background: BackgroundTasks) -> None:
    worker = center(request).worker
    if worker is not None:
        background.add_task(worker.jobs_queued)
