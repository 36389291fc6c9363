"""What the center notifies about: one problem, described once for every channel.

A :class:`Notification` is a frozen msgspec struct, so the outbox can store it as JSON and
read it back typed (``msgspec.json.decode(data, type=Notification)``). There is no "healthy"
kind: only problems notify. Its strings come from scanned images, clusters and hosts, so they
are hostile: :func:`bounded` clips every string and escapes control characters before any
channel renders or sends it, which keeps each message small and each header one line.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

import msgspec

from seawall.model import Severity
from seawall.safety.text import printable

Kind = Literal[
    "new_unhealthy_image",
    "new_critical_finding",
    "runtime_alert",
    "score_drop",
    "job_failure",
]
KINDS: frozenset[str] = frozenset(get_args(Kind))

# Limits applied by ``bounded``: characters per field, and how many facts are kept.
MAX_TITLE = 200
MAX_SUMMARY = 2000
MAX_FIELD = 300
MAX_URL = 2000
MAX_FACTS = 20
MAX_FACT_LABEL = 60
MAX_FACT_VALUE = 500
ELLIPSIS = "…"


class Resource(msgspec.Struct, frozen=True, kw_only=True):
    """The asset a notification is about, and where it lives (empty when unknown)."""

    type: str  # "image", "host", "container", "workload", "cluster", ...
    name: str
    registry: str = ""
    repository: str = ""
    cluster: str = ""
    namespace: str = ""
    host: str = ""

    def tags(self) -> frozenset[str]:
        """The scope tags of this resource (``host:H``, ``registry:R``, ``cluster:C``,
        ``namespace:C/N``), the same selectors :mod:`seawall.center.security.scope` uses."""
        tags = set()
        if self.host:
            tags.add(f"host:{self.host}")
        if self.registry:
            tags.add(f"registry:{self.registry}")
        if self.cluster:
            tags.add(f"cluster:{self.cluster}")
            if self.namespace:
                tags.add(f"namespace:{self.cluster}/{self.namespace}")
        return frozenset(tags)


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    """One problem to tell people about.

    ``severity`` may be given as a :class:`~seawall.model.Severity`, its number or its name
    (``"high"``); it is stored as a Severity. ``occurred_at`` must be timezone-aware.
    ``dedupe_key`` names the problem, so the same one is not sent twice within a window
    (for example ``"finding:<fingerprint>"``).
    """

    kind: Kind
    severity: Severity
    title: str
    summary: str
    resource: Resource
    occurred_at: dt.datetime
    dedupe_key: str
    url: str = ""
    facts: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown notification kind {self.kind!r}")
        given: object = self.severity
        if not isinstance(given, Severity):
            msgspec.structs.force_setattr(self, "severity", severity_of(given))
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        if not self.dedupe_key:
            raise ValueError("dedupe_key must not be empty")


def severity_of(value: object) -> Severity:
    """A Severity from itself, its number (0-4) or its name in any case; ValueError else."""
    if isinstance(value, str):
        return Severity.parse(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Severity(value)
    raise ValueError(f"invalid severity {value!r}")


def clip(text: str, limit: int) -> str:
    """``text`` made printable (controls escaped) and cut to ``limit`` characters, the last
    one an ellipsis when anything was cut."""
    text = printable(text)
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS


def bounded(notification: Notification) -> Notification:
    """The notification with every string clipped to its limit and at most ``MAX_FACTS``
    facts: what channels render and send."""
    r = notification.resource
    return msgspec.structs.replace(
        notification,
        title=clip(notification.title, MAX_TITLE),
        summary=clip(notification.summary, MAX_SUMMARY),
        url=clip(notification.url, MAX_URL),
        dedupe_key=clip(notification.dedupe_key, MAX_FIELD),
        resource=Resource(
            type=clip(r.type, MAX_FIELD),
            name=clip(r.name, MAX_FIELD),
            registry=clip(r.registry, MAX_FIELD),
            repository=clip(r.repository, MAX_FIELD),
            cluster=clip(r.cluster, MAX_FIELD),
            namespace=clip(r.namespace, MAX_FIELD),
            host=clip(r.host, MAX_FIELD),
        ),
        facts=tuple(
            (clip(label, MAX_FACT_LABEL), clip(value, MAX_FACT_VALUE))
            for label, value in notification.facts[:MAX_FACTS]
        ),
    )


def to_wire(notification: Notification) -> dict[str, object]:
    """The bounded notification as JSON-ready builtins, severity by name (``"high"``) and the
    time in ISO 8601: the shape webhooks receive and templates see."""
    n = bounded(notification)
    return {
        "kind": n.kind,
        "severity": n.severity.name.lower(),
        "title": n.title,
        "summary": n.summary,
        "resource": msgspec.to_builtins(n.resource),
        "url": n.url,
        "facts": [[label, value] for label, value in n.facts],
        "occurred_at": n.occurred_at.isoformat(),
        "dedupe_key": n.dedupe_key,
    }
