"""What to send now and what waits: digests, throttling and de-duplication, as pure
functions over the outbox's rows (no clock, no I/O; the caller passes ``now``).

Per channel, in this order:

1. **De-duplication.** A pending notification whose ``dedupe_key`` was sent on the channel
   less than ``dedupe_window`` ago is a duplicate. Of several pending with one key, the
   latest (by ``occurred_at``) is kept and the others are duplicates. Duplicates are retired
   (``Plan.duplicates``), never sent.
2. **Mode.** ``immediate``: everything kept is due. ``hourly``/``daily``: what was queued
   before the latest boundary (the top of the hour; midnight UTC plus ``digest_offset``) is
   due, as one digest; what was queued since waits for the next boundary.
3. **Throttle.** At most ``max_per_hour`` messages per channel in any rolling hour (counting
   ``last_sent``). In immediate mode each due notification is its own message while the
   budget lasts; the last message of the budget carries all the rest, so nothing is held
   back while a message may still be sent. With no budget left, everything due waits.

Every pending notification ends up in exactly one of ``batches``, ``duplicates`` and
``waiting``; ``next_check`` says when waiting ones may become due. There is no "healthy"
notification kind, so nothing here ever announces that a problem went away.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from seawall.center.notify.message import Notification

Mode = Literal["immediate", "hourly", "daily"]
HOUR = dt.timedelta(hours=1)
PERIODS: Mapping[str, dt.timedelta] = {"hourly": HOUR, "daily": dt.timedelta(days=1)}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class ChannelSettings:
    """How one channel sends: ``mode``, the hourly cap and the de-duplication window."""

    mode: Mode = "immediate"
    max_per_hour: int = 20
    dedupe_window: dt.timedelta = dt.timedelta(hours=24)
    digest_offset: dt.timedelta = dt.timedelta(0)  # daily digests: after midnight UTC

    def __post_init__(self) -> None:
        if self.mode not in ("immediate", "hourly", "daily"):
            raise ValueError(f"invalid mode {self.mode!r}: expected immediate, hourly or daily")
        if self.max_per_hour < 1:
            raise ValueError("max_per_hour must be at least 1")
        if self.dedupe_window < dt.timedelta(0):
            raise ValueError("dedupe_window must not be negative")
        period = PERIODS.get(self.mode, HOUR)
        if not dt.timedelta(0) <= self.digest_offset < period:
            raise ValueError(f"digest_offset must be within one {self.mode} period")


@dataclass(frozen=True)
class Pending:
    """A notification queued for a channel by a rule (an outbox row)."""

    id: str
    channel: str
    rule: str
    notification: Notification
    queued_at: dt.datetime


@dataclass(frozen=True)
class Sent:
    """A message sent on a channel, with the dedupe keys it carried. Keep at least the
    last hour and the longest dedupe window of them."""

    channel: str
    at: dt.datetime
    dedupe_keys: frozenset[str]


@dataclass(frozen=True)
class Batch:
    """One message to send now on ``channel``."""

    channel: str
    items: tuple[Pending, ...]

    @property
    def notifications(self) -> list[Notification]:
        return [item.notification for item in self.items]

    def sent(self, at: dt.datetime) -> Sent:
        """The record to keep once this batch was delivered at ``at``."""
        return Sent(self.channel, at, frozenset(i.notification.dedupe_key for i in self.items))


@dataclass(frozen=True)
class Plan:
    batches: list[Batch]
    duplicates: list[Pending]
    waiting: list[Pending]
    next_check: dt.datetime | None


def _severity_first(item: Pending) -> tuple[int, dt.datetime, str]:
    return (-item.notification.severity, item.notification.occurred_at, item.id)


def boundary(now: dt.datetime, settings: ChannelSettings) -> dt.datetime:
    """The latest digest boundary at or before ``now``."""
    period = PERIODS[settings.mode]
    elapsed = now - _EPOCH - settings.digest_offset
    return now - elapsed % period


def plan(
    pending: Iterable[Pending],
    last_sent: Iterable[Sent],
    now: dt.datetime,
    settings: Mapping[str, ChannelSettings],
) -> Plan:
    """Decide, for every channel with pending notifications, what to send at ``now``.
    ``settings`` must name every such channel (KeyError otherwise)."""
    by_channel: dict[str, list[Pending]] = defaultdict(list)
    for item in pending:
        by_channel[item.channel].append(item)
    history: dict[str, list[Sent]] = defaultdict(list)
    for record in last_sent:
        history[record.channel].append(record)
    batches: list[Batch] = []
    duplicates: list[Pending] = []
    waiting: list[Pending] = []
    checks: list[dt.datetime] = []
    for channel in sorted(by_channel):
        part = _plan_channel(channel, by_channel[channel], history[channel], now, settings[channel])
        batches += part.batches
        duplicates += part.duplicates
        waiting += part.waiting
        if part.next_check is not None:
            checks.append(part.next_check)
    return Plan(batches, duplicates, waiting, min(checks, default=None))


def _plan_channel(
    channel: str,
    items: Sequence[Pending],
    history: Sequence[Sent],
    now: dt.datetime,
    settings: ChannelSettings,
) -> Plan:
    recently_sent = {
        key
        for record in history
        if now - record.at < settings.dedupe_window
        for key in record.dedupe_keys
    }
    by_key: dict[str, list[Pending]] = defaultdict(list)
    for item in items:
        by_key[item.notification.dedupe_key].append(item)
    kept: list[Pending] = []
    duplicates: list[Pending] = []
    for key, group in by_key.items():
        if key in recently_sent:
            duplicates += group
            continue
        group = sorted(group, key=lambda i: (i.notification.occurred_at, i.id))
        kept.append(group[-1])
        duplicates += group[:-1]

    checks: list[dt.datetime] = []
    if settings.mode == "immediate":
        due, later = kept, []
    else:
        edge = boundary(now, settings)
        due = [i for i in kept if i.queued_at < edge]
        later = [i for i in kept if i.queued_at >= edge]
        if later:
            checks.append(edge + PERIODS[settings.mode])

    in_last_hour = sorted(r.at for r in history if now - r.at < HOUR)
    budget = settings.max_per_hour - len(in_last_hour)
    if due and budget <= 0:
        checks.append(in_last_hour[-settings.max_per_hour] + HOUR)
        return Plan([], duplicates, due + later, min(checks))

    batches: list[Batch] = []
    if due and settings.mode == "immediate":
        ordered = sorted(due, key=_severity_first)
        singles = ordered if len(ordered) <= budget else ordered[: budget - 1]
        batches = [Batch(channel, (item,)) for item in singles]
        if len(singles) < len(ordered):
            batches.append(Batch(channel, tuple(ordered[len(singles) :])))
    elif due:
        batches = [Batch(channel, tuple(sorted(due, key=_severity_first)))]
    return Plan(batches, duplicates, later, min(checks, default=None))
