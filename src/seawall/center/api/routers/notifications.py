"""Notification channels and rules (owners), a test message, and the outbox: what was sent,
what waits, what failed and why."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlalchemy import select

from seawall.center import audit
from seawall.center.api.deps import DB, Id, Owner, center, now
from seawall.center.api.schemas import (
    ChannelCreate,
    ChannelItem,
    OutboxItem,
    RuleCreate,
    RuleItem,
)
from seawall.center.notifications.channels import ChannelProblem, build, channel_of
from seawall.center.notify import DeliveryError, Notification, Resource
from seawall.center.security.roles import Principal
from seawall.center.security.scope import require_everything
from seawall.center.security.vault import SecretUnreadable
from seawall.center.store.models import NotificationChannelRow, NotificationRuleRow, OutboxRow
from seawall.model import Severity

router = APIRouter(tags=["notifications"])
T = TypeVar("T")


def _settings(body: ChannelCreate) -> tuple[dict[str, Any], str]:
    """What a channel keeps in the clear, and its secret (sealed at rest)."""
    if body.kind == "webhook":
        return {"url": body.url}, body.secret
    if body.kind in ("slack", "teams"):
        return {"host": urlsplit(body.url).hostname or ""}, body.url  # the URL is the secret
    if body.kind == "email":
        settings = {"host": body.host, "port": body.port or 587, "sender": body.sender,
                    "recipients": body.recipients, "security": body.security,
                    "username": body.username}  # fmt: skip
        return settings, body.password
    return {"host": body.host, "port": body.port or 514, "transport": body.transport,
            "facility": body.facility}, ""  # fmt: skip


def _channel(row: NotificationChannelRow) -> ChannelItem:
    fields = {f: getattr(row, f) for f in ChannelItem.model_fields if hasattr(row, f)}
    fields.pop("secret", None)
    return ChannelItem(**fields, has_secret=bool(row.secret))


def _rule(row: NotificationRuleRow) -> RuleItem:
    fields = {f: getattr(row, f) for f in RuleItem.model_fields}
    fields["min_severity"] = Severity(row.min_severity).name.lower()
    return RuleItem(**fields)


@router.get("/notifications/channels", response_model=list[ChannelItem])
def list_channels(session: DB, caller: Owner) -> list[ChannelItem]:
    require_everything(caller.scope)
    rows = session.scalars(select(NotificationChannelRow).order_by(NotificationChannelRow.name))
    return [_channel(row) for row in rows]


@router.post("/notifications/channels", response_model=ChannelItem, status_code=201)
def post_channel(request: Request, session: DB, caller: Owner, body: ChannelCreate) -> ChannelItem:
    """Add a channel; refused (422) when it could never deliver (a bad URL, address or
    template), 409 when the name is taken."""
    require_everything(caller.scope)
    settings, secret = _settings(body)
    try:
        build(body.kind, settings, secret, body.templates)
    except ChannelProblem as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    taken = select(NotificationChannelRow.id).where(NotificationChannelRow.name == body.name)
    if session.scalar(taken) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"a channel named {body.name!r} exists")
    row = NotificationChannelRow(
        name=body.name,
        kind=body.kind,
        settings=settings,
        secret=center(request).vault.seal(secret),
        templates=body.templates,
        mode=body.mode,
        max_per_hour=body.max_per_hour,
        created_at=now(),
        last_error="",
    )
    session.add(row)
    session.flush()
    audit.record(session, caller, "channel.add", body.name, kind=body.kind)
    return _channel(row)


def _existing(session: DB, caller: Principal, model: type[T], row_id: int, what: str) -> T:
    """The row an owner whose scope is everything asks for; 404 naming ``what``."""
    require_everything(caller.scope)
    row = session.get(model, row_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such {what}")
    return row


@router.delete("/notifications/channels/{channel_id}", status_code=204)
def delete_channel(session: DB, caller: Owner, channel_id: Id) -> None:
    row = _existing(session, caller, NotificationChannelRow, channel_id, "channel")
    audit.record(session, caller, "channel.remove", row.name)
    session.delete(row)


@router.post("/notifications/channels/{channel_id}/test", response_model=ChannelItem)
def test_channel(request: Request, session: DB, caller: Owner, channel_id: Id) -> ChannelItem:
    """Send a test message now; 502 with the channel's answer when it fails."""
    row = _existing(session, caller, NotificationChannelRow, channel_id, "channel")
    message = Notification(
        kind="job_failure",
        severity=Severity.LOW,
        title="Seawall test notification",
        summary=f"sent by {caller.name} to check channel {row.name}",
        resource=Resource(type="channel", name=row.name),
        occurred_at=now(),
        dedupe_key=f"test:{row.id}:{now().isoformat()}",
    )
    try:
        channel_of(row, center(request).vault).deliver([message])
    except (DeliveryError, SecretUnreadable, ChannelProblem) as exc:
        row.last_error = str(exc)[:2000]
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"not delivered: {exc}") from None
    row.last_sent_at, row.last_error = now(), ""
    return _channel(row)


@router.get("/notifications/rules", response_model=list[RuleItem])
def list_rules(session: DB, caller: Owner) -> list[RuleItem]:
    require_everything(caller.scope)
    rows = session.scalars(select(NotificationRuleRow).order_by(NotificationRuleRow.id))
    return [_rule(row) for row in rows]


@router.post("/notifications/rules", response_model=RuleItem, status_code=201)
def post_rule(session: DB, caller: Owner, body: RuleCreate) -> RuleItem:
    """Route problems of ``kinds`` (all when empty) at or above ``min_severity`` within
    ``scope`` (everything when empty) to a channel."""
    require_everything(caller.scope)
    if session.get(NotificationChannelRow, body.channel_id) is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "no such channel_id")
    row = NotificationRuleRow(
        name=body.name,
        channel_id=body.channel_id,
        kinds=list(body.kinds),
        min_severity=int(Severity[body.min_severity.upper()]),
        scope=body.scope,
    )
    session.add(row)
    session.flush()
    audit.record(session, caller, "rule.add", body.name, channel=body.channel_id)
    return _rule(row)


@router.delete("/notifications/rules/{rule_id}", status_code=204)
def delete_rule(session: DB, caller: Owner, rule_id: Id) -> None:
    row = _existing(session, caller, NotificationRuleRow, rule_id, "rule")
    audit.record(session, caller, "rule.remove", row.name)
    session.delete(row)


@router.get("/notifications/outbox", response_model=list[OutboxItem])
def list_outbox(
    session: DB,
    caller: Owner,
    state: Annotated[str | None, Query(pattern="^(pending|sending|sent|duplicate|failed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[OutboxItem]:
    """The newest notifications first, with their delivery state and last error."""
    require_everything(caller.scope)
    statement = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
    if state:
        statement = statement.where(OutboxRow.state == state)
    return [
        OutboxItem.model_validate({f: getattr(row, f) for f in OutboxItem.model_fields})
        for row in session.scalars(statement)
    ]
