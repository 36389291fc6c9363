"""The outbox: notifications written in the transaction that found the problem, delivered
afterwards by the center's upkeep.

:func:`emit` routes a notification through the enabled rules and adds one row per channel
(nothing when no rule matches: a center without rules pays one query). :func:`deliver_due`
claims due rows (a conditional update, so several center processes never send one row
twice), asks :func:`seawall.center.notify.plan` what goes out now (digests, throttling,
de-duplication against what was sent), sends each batch, and records the outcome: sent,
retired as a duplicate, retried with back-off while the failure may pass, or failed with the
reason after :data:`MAX_ATTEMPTS`. Rows a deliverer claimed and never settled (it died) are
claimable again after :data:`CLAIM`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

import msgspec
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from seawall.center.notifications.channels import channel_of, key, rule_of, settings_of
from seawall.center.notify import DeliveryError, Notification, Pending, Sent, matches, plan
from seawall.center.runtime import Center
from seawall.center.security.vault import SecretUnreadable
from seawall.center.store.models import NotificationChannelRow, NotificationRuleRow, OutboxRow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
CLAIM = dt.timedelta(minutes=5)
BATCH = 500
HISTORY = dt.timedelta(hours=24)  # the longest de-duplication window a channel has


def emit(session: Session, notification: Notification, now: dt.datetime) -> int:
    """Queue ``notification`` for every channel an enabled rule routes it to; how many."""
    rows = session.execute(
        select(NotificationRuleRow, NotificationChannelRow)
        .join(NotificationChannelRow, NotificationChannelRow.id == NotificationRuleRow.channel_id)
        .where(NotificationRuleRow.enabled.is_(True), NotificationChannelRow.enabled.is_(True))
    ).all()
    body = msgspec.json.encode(notification)
    channels: dict[int, str] = {}
    for rule_row, channel in rows:
        if channel.id not in channels and matches(rule_of(rule_row), notification):
            channels[channel.id] = rule_row.name
    for channel_id, rule in channels.items():
        session.add(
            OutboxRow(
                channel_id=channel_id,
                rule=rule[:100],
                kind=notification.kind,
                dedupe_key=notification.dedupe_key[:300],
                notification=body,
                state="pending",
                queued_at=now,
                next_attempt_at=now,
                error="",
            )
        )
    return len(channels)


def deliver_due(center: Center, deliverer: str, now: dt.datetime) -> int:
    """Send what is due; how many messages went out."""
    with center.sessions() as session, session.begin():
        due = list(
            session.scalars(
                select(OutboxRow.id)
                .where(OutboxRow.next_attempt_at <= now)
                .where(
                    (OutboxRow.state == "pending")
                    | ((OutboxRow.state == "sending") & (OutboxRow.claimed_until < now))
                )
                .order_by(OutboxRow.id)
                .limit(BATCH)
            )
        )
        if not due:
            return 0
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(due))
            .where((OutboxRow.state == "pending") | (OutboxRow.claimed_until < now))
            .values(state="sending", claimed_by=deliverer[:200], claimed_until=now + CLAIM)
        )
    with center.sessions() as session:
        claimed = list(
            session.scalars(
                select(OutboxRow).where(
                    OutboxRow.claimed_by == deliverer[:200], OutboxRow.state == "sending"
                )
            )
        )
        channels = {
            c.id: c
            for c in session.scalars(
                select(NotificationChannelRow).where(
                    NotificationChannelRow.id.in_({row.channel_id for row in claimed})
                )
            )
        }
        history = _history(session, channels, now)
        session.expunge_all()
    return _send(center, claimed, channels, history, now)


def _history(
    session: Session, channels: dict[int, NotificationChannelRow], now: dt.datetime
) -> list[Sent]:
    """What was sent recently on these channels, per message (rows sent together)."""
    sent: dict[tuple[int, dt.datetime], set[str]] = {}
    for channel_id, at, dedupe_key in session.execute(
        select(OutboxRow.channel_id, OutboxRow.sent_at, OutboxRow.dedupe_key).where(
            OutboxRow.channel_id.in_(channels),
            OutboxRow.state == "sent",
            OutboxRow.sent_at >= now - HISTORY,
        )
    ):
        if at is not None:
            sent.setdefault((channel_id, at), set()).add(dedupe_key)
    return [Sent(str(c), at, frozenset(keys)) for (c, at), keys in sent.items()]


def _send(
    center: Center,
    claimed: list[OutboxRow],
    channels: dict[int, NotificationChannelRow],
    history: list[Sent],
    now: dt.datetime,
) -> int:
    pending = []
    for row in claimed:
        try:
            notification = msgspec.json.decode(row.notification, type=Notification)
        except msgspec.ValidationError as exc:  # written by an older, different center
            _settle(center, [row.id], state="failed", error=f"unreadable: {exc}", now=now)
            continue
        pending.append(Pending(str(row.id), str(row.channel_id), row.rule, notification,
                               row.queued_at))  # fmt: skip
    settings = {key(c): settings_of(c) for c in channels.values()}
    planned = plan(pending, history, now, settings)
    _settle(center, [int(p.id) for p in planned.duplicates], state="duplicate", now=now)
    _settle(center, [int(p.id) for p in planned.waiting], state="pending", now=now,
            retry_at=planned.next_check)  # fmt: skip
    vault = center.vault
    attempts = {row.id: row.attempts for row in claimed}
    sent = 0
    for batch in planned.batches:
        ids = [int(item.id) for item in batch.items]
        channel = channels[int(batch.channel)]
        try:
            channel_of(channel, vault).deliver(batch.notifications)
        except (DeliveryError, SecretUnreadable) as exc:
            retryable = isinstance(exc, DeliveryError) and exc.retryable
            _failed(center, channel, ids, attempts, str(exc), retryable, now)
            continue
        _settle(center, ids, state="sent", now=now, sent_at=now)
        _channel_state(center, channel.id, last_sent_at=now, last_error="")
        sent += 1
    return sent


def _failed(
    center: Center,
    channel: NotificationChannelRow,
    ids: list[int],
    attempts: dict[int, int],
    reason: str,
    retryable: bool,
    now: dt.datetime,
) -> None:
    log.warning("notification channel %s: %s", channel.name, reason)
    tries = max(attempts[i] for i in ids) + 1
    if retryable and tries < MAX_ATTEMPTS:
        later = now + dt.timedelta(seconds=min(30 * 4 ** (tries - 1), 3600))
        _settle(center, ids, state="pending", now=now, error=reason, retry_at=later)
    else:
        _settle(center, ids, state="failed", now=now, error=reason)
    _channel_state(center, channel.id, last_error=reason[:2000])


def _settle(
    center: Center,
    ids: Iterable[int],
    *,
    state: str,
    now: dt.datetime,
    error: str = "",
    sent_at: dt.datetime | None = None,
    retry_at: dt.datetime | None = None,
) -> None:
    """Rows ``ids`` to ``state``, unclaimed; an error counts as an attempt."""
    ids = list(ids)
    if not ids:
        return
    values: dict[str, object] = {"state": state, "claimed_by": "", "claimed_until": None}
    if error:
        values["error"] = error[:2000]
        values["attempts"] = OutboxRow.attempts + 1
    if sent_at is not None:
        values["sent_at"] = sent_at
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    with center.sessions() as session, session.begin():
        session.execute(update(OutboxRow).where(OutboxRow.id.in_(ids)).values(**values))


def _channel_state(center: Center, channel_id: int, **values: object) -> None:
    with center.sessions() as session, session.begin():
        session.execute(
            update(NotificationChannelRow)
            .where(NotificationChannelRow.id == channel_id)
            .values(**values)
        )
