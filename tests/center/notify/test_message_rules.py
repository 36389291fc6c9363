"""Notifications as stored data, and the rules that route them."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from seawall.center.notify import Notification, Rule, matches
from seawall.center.notify.message import MAX_TITLE, bounded
from seawall.model import Severity
from tests.center.notify.conftest import make_notification


def test_round_trip_as_json() -> None:
    n = make_notification()
    assert msgspec.json.decode(msgspec.json.encode(n), type=Notification) == n


@pytest.mark.parametrize("given", [Severity.HIGH, 3, "high", "HIGH"])
def test_severity_by_enum_number_or_name(given: object) -> None:
    assert make_notification(severity=given).severity is Severity.HIGH


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "healthy"}, "kind"),
        ({"severity": "bad"}, "severity"),
        ({"severity": 9}, "9"),
        ({"occurred_at": dt.datetime(2024, 1, 1)}, "timezone"),
        ({"dedupe_key": ""}, "dedupe_key"),
    ],
)
def test_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_notification(**changes)


def test_no_healthy_kind_decodes() -> None:
    data = msgspec.json.encode(make_notification()).replace(b"new_critical_finding", b"healthy")
    with pytest.raises(msgspec.ValidationError, match="kind"):
        msgspec.json.decode(data, type=Notification)


def test_bounded_clips_and_escapes() -> None:
    n = bounded(make_notification(title="\x1b[2J" + "t" * 1000, facts=(("a", "b"),) * 50))
    assert len(n.title) == MAX_TITLE and n.title.startswith("\\x1b[2J") and n.title[-1] == "…"
    assert len(n.facts) == 20


def test_rules() -> None:
    n = make_notification()  # critical finding on an image in registry.example, prod/shop
    assert matches(Rule("all"), n)
    assert matches(Rule.of("f", kinds=["new_critical_finding"], min_severity="high"), n)
    assert not matches(Rule.of("r", kinds=["runtime_alert"]), n)
    assert not matches(Rule("low", min_severity=Severity.HIGH), make_notification(severity=1))
    assert matches(Rule.of("prod", scope=["cluster:prod"]), n)
    assert matches(Rule.of("ns", scope=["namespace:prod/shop"]), n)
    assert matches(Rule.of("reg", scope=["registry:registry.example", "host:x"]), n)
    assert not matches(Rule.of("other", scope=["namespace:prod/other", "host:h"]), n)


def test_rule_refuses_unknown_kind_and_scope() -> None:
    with pytest.raises(ValueError, match="unknown kind healthy"):
        Rule.of("x", kinds=["healthy"])
    with pytest.raises(ValueError, match="invalid scope"):
        Rule.of("x", scope=["namespace:shop"])
