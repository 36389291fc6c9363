"""Digest planning: examples, and properties over many rounds of simulated time."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.center.notify.digest import ChannelSettings, Pending, Sent, plan
from tests.center.notify.conftest import make_notification

T0 = dt.datetime(2024, 5, 6, 10, 30, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def _pending(i: int, key: str = "", channel: str = "c", at: dt.datetime = T0, severity: int = 4):
    n = make_notification(dedupe_key=key or f"k{i}", severity=severity, occurred_at=at)
    return Pending(id=str(i), channel=channel, rule="r", notification=n, queued_at=at)


def test_immediate_sends_each_alone() -> None:
    result = plan([_pending(1), _pending(2)], [], T0, {"c": ChannelSettings()})
    assert [[i.id for i in b.items] for b in result.batches] == [["1"], ["2"]]
    assert not result.waiting and not result.duplicates


def test_duplicates_within_window_are_retired() -> None:
    sent = [Sent("c", T0 - dt.timedelta(hours=2), frozenset({"k1"}))]
    pending = [_pending(1), _pending(2, key="k2"), _pending(3, key="k2", at=T0 + MINUTE)]
    result = plan(pending, sent, T0 + MINUTE, {"c": ChannelSettings()})
    assert [b.items[0].id for b in result.batches] == ["3"]  # the latest of k2
    assert sorted(p.id for p in result.duplicates) == ["1", "2"]
    later = plan([_pending(1)], sent, T0 + dt.timedelta(days=1), {"c": ChannelSettings()})
    assert later.batches and not later.duplicates


def test_throttle_folds_the_rest_into_the_last_message() -> None:
    sent = [Sent("c", T0 - MINUTE * i, frozenset()) for i in range(1, 4)]
    pending = [_pending(i, severity=i % 5) for i in range(10)]
    result = plan(pending, sent, T0, {"c": ChannelSettings(max_per_hour=5)})
    assert [len(b.items) for b in result.batches] == [1, 9]
    assert result.batches[0].items[0].notification.severity == 4
    full = [*sent, Sent("c", T0 - MINUTE * 5, frozenset()), Sent("c", T0, frozenset())]
    held = plan(pending, full, T0, {"c": ChannelSettings(max_per_hour=5)})
    assert not held.batches and len(held.waiting) == 10
    assert held.next_check == T0 - MINUTE * 5 + dt.timedelta(hours=1)


def test_hourly_and_daily_digests() -> None:
    hourly = {"c": ChannelSettings(mode="hourly")}
    early, late = _pending(1, at=T0), _pending(2, at=T0 + 20 * MINUTE)
    result = plan([early, late], [], T0 + 25 * MINUTE, hourly)  # 10:55: nothing due yet
    assert not result.batches and result.next_check == T0 + 30 * MINUTE
    result = plan([early, late], [], T0 + 31 * MINUTE, hourly)  # 11:01: one digest
    assert [len(b.items) for b in result.batches] == [2]
    daily = {"c": ChannelSettings(mode="daily", digest_offset=dt.timedelta(hours=8))}
    result = plan([early], [], T0, daily)
    assert not result.batches
    assert result.next_check == dt.datetime(2024, 5, 7, 8, tzinfo=dt.UTC)


# Properties: many rounds of pending notifications over simulated time, with the plan's
# batches recorded as sent, as the outbox will do.

_settings = st.builds(
    ChannelSettings,
    mode=st.sampled_from(["immediate", "hourly", "daily"]),
    max_per_hour=st.integers(1, 6),
    dedupe_window=st.sampled_from([dt.timedelta(0), 10 * MINUTE, dt.timedelta(hours=3)]),
)
_arrivals = st.lists(
    st.tuples(
        st.integers(0, 6 * 60),  # minute it is queued
        st.sampled_from(["a", "b"]),  # channel
        st.sampled_from(["k1", "k2", "k3", "k4"]),  # dedupe key
        st.integers(0, 4),  # severity
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(_arrivals, _settings, _settings, st.sampled_from([1, 7, 29]))
def test_simulation(arrivals, settings_a, settings_b, step_minutes) -> None:  # type: ignore[no-untyped-def]
    config = {"a": settings_a, "b": settings_b}
    queue: list[Pending] = []
    sent: list[Sent] = []
    delivered: dict[str, tuple[str, dt.datetime]] = {}
    retired: set[str] = set()
    arrivals = sorted(arrivals)
    ids = {}
    now = T0
    end = T0 + dt.timedelta(days=3)
    index = 0
    while now < end:
        while index < len(arrivals) and T0 + MINUTE * arrivals[index][0] <= now:
            minute, channel, key, severity = arrivals[index]
            item = _pending(index, key=key, channel=channel, at=T0 + MINUTE * minute,
                            severity=severity)  # fmt: skip
            ids[item.id] = item
            queue.append(item)
            index += 1
        result = plan(queue, sent, now, config)
        # Nothing is lost: every pending item is in exactly one place.
        placed = [i.id for b in result.batches for i in b.items]
        placed += [i.id for i in result.duplicates] + [i.id for i in result.waiting]
        assert sorted(placed) == sorted(i.id for i in queue)
        for batch in result.batches:
            assert batch.items and all(i.channel == batch.channel for i in batch.items)
            sent.append(batch.sent(now))
            for item in batch.items:
                delivered[item.id] = (batch.channel, now)
        retired |= {i.id for i in result.duplicates}
        if result.next_check is not None:
            assert result.next_check > now
        queue = list(result.waiting)
        now += MINUTE * step_minutes
    # Everything was eventually sent or retired as a duplicate.
    assert not queue
    assert set(delivered) | retired == set(ids)
    for channel, cfg in config.items():
        times = sorted(s.at for s in sent if s.channel == channel)
        # The throttle holds in every rolling hour.
        for i, start in enumerate(times):
            assert sum(1 for t in times[i:] if t - start < dt.timedelta(hours=1)) <= (
                cfg.max_per_hour
            )
        # A dedupe key goes out at most once per window.
        by_key: dict[str, list[dt.datetime]] = {}
        for record in sent:
            if record.channel == channel:
                for key in record.dedupe_keys:
                    by_key.setdefault(key, []).append(record.at)
        for moments in by_key.values():
            moments.sort()
            assert all(b - a >= cfg.dedupe_window for a, b in itertools.pairwise(moments))
            if cfg.dedupe_window:
                assert len(moments) == len(set(moments))
    # A retired duplicate's key was sent on its channel (now or within the window).
    for item_id in retired:
        item = ids[item_id]
        assert any(
            item.notification.dedupe_key in s.dedupe_keys for s in sent if s.channel == item.channel
        )
