"""The notifications a distribution registry sends (``docker-registry`` 2.x, Harbor, Zot...):
an envelope ``{"events": [...]}`` of media type
``application/vnd.docker.distribution.events.v1+json``.

Untrusted input: the envelope is decoded under the shared JSON bounds, each event on its
own, so one malformed event is reported and skipped while the others count. Only what the
center acts on is kept: which manifest of which repository was pushed, pulled or deleted,
when. Blob events and events without a manifest digest are ignored (a registry sends one
per layer).
"""

from __future__ import annotations

import datetime as dt
import re

import msgspec

from seawall.runtime.timeutil import epoch_from_iso
from seawall.safety.jsondoc import JsonError, decode_records, parse_json

MEDIA_TYPE = "application/vnd.docker.distribution.events.v1+json"
MAX_EVENTS = 1000  # a registry sends a handful per envelope (threshold: 5 by default)
ACTIONS = frozenset({"push", "pull", "delete"})
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_REPOSITORY = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
MANIFEST_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    }
)


class _Target(msgspec.Struct, kw_only=True):
    mediaType: str = ""
    digest: str = ""
    repository: str = ""
    tag: str = ""


class _Event(msgspec.Struct, kw_only=True):
    id: str = ""
    timestamp: str = ""
    action: str = ""
    target: _Target = msgspec.field(default_factory=_Target)


class _Envelope(msgspec.Struct):
    events: list[msgspec.Raw]


class RegistryEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One manifest event the center acts on."""

    action: str  # push, pull, delete
    repository: str
    digest: str
    tag: str
    media_type: str
    at: dt.datetime


class BadNotification(ValueError):
    """The envelope itself is not a notification: refused whole (422)."""


def parse_events(body: bytes, received_at: dt.datetime) -> tuple[list[RegistryEvent], list[str]]:
    """The manifest events of an envelope, and a message for each event skipped as
    malformed. :class:`BadNotification` when the envelope is not one."""
    try:
        envelope = parse_json(body, _Envelope)
    except JsonError as exc:
        raise BadNotification(f"not a registry notification: {exc}") from None
    if len(envelope.events) > MAX_EVENTS:
        raise BadNotification(f"more than {MAX_EVENTS} events in one notification")
    decoded, skipped = decode_records(envelope.events, _Event, "notification", "event")
    events: list[RegistryEvent] = []
    for number, event in enumerate(decoded, 1):
        problem = _problem(event)
        if problem:
            skipped.append(f"notification: event {number}: {problem}; skipped")
            continue
        if event.action not in ACTIONS or not _is_manifest(event):
            continue
        events.append(
            RegistryEvent(
                action=event.action,
                repository=event.target.repository,
                digest=event.target.digest,
                tag=event.target.tag,
                media_type=event.target.mediaType,
                at=_time(event.timestamp, received_at),
            )
        )
    return events, skipped


def _problem(event: _Event) -> str:
    target = event.target
    if target.digest and not _DIGEST.match(target.digest):
        return f"invalid digest {target.digest[:80]!r}"
    if target.repository and (
        len(target.repository) > 255 or not _REPOSITORY.match(target.repository)
    ):
        return f"invalid repository {target.repository[:80]!r}"
    if target.tag and not _TAG.match(target.tag):
        return f"invalid tag {target.tag[:80]!r}"
    return ""


def _is_manifest(event: _Event) -> bool:
    """A manifest event with what the center needs (a delete carries no media type)."""
    target = event.target
    if not (target.digest and target.repository):
        return False
    return event.action == "delete" or target.mediaType in MANIFEST_TYPES


def _time(text: str, fallback: dt.datetime) -> dt.datetime:
    """The event's time; the receipt time when it has none or an unreadable one, and never
    later than the receipt (a registry's clock in the future must not pin an image)."""
    seconds = epoch_from_iso(text)
    if seconds <= 0:
        return fallback
    return min(dt.datetime.fromtimestamp(seconds, dt.UTC), fallback)
