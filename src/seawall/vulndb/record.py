"""One OSV record (JSON or YAML bytes) -> an :class:`Advisory`, or a :class:`RecordError`.

The OSV schema is declared as msgspec structs so a JSON record is decoded and validated in C
in one pass. Everything optional is lenient (``null`` or absent); anything of the wrong shape
makes the whole record malformed, never half-read. Withdrawn records give ``None``.
Only ``ECOSYSTEM`` and ``SEMVER`` ranges are kept: ``GIT`` ranges name commits, which an
installed package does not have.
"""

from __future__ import annotations

import msgspec

from seawall.model import Advisory, Affected, Range
from seawall.vulndb.osv import OsvAffected, OsvRecord, RecordError, decode
from seawall.vulndb.severity import entry_rating, rate

MAX_DETAILS = 16_384  # characters of ``details`` kept (reports show a summary, not a book)
_RANGE_TYPES = frozenset(("ECOSYSTEM", "SEMVER"))
_EVENTS = frozenset(("introduced", "fixed", "last_affected", "limit"))


class Parsed(msgspec.Struct, frozen=True):
    """A record as the store keeps it: the advisory and the CVE ids to enrich it by."""

    advisory: Advisory
    cves: tuple[str, ...]  # CVE ids among the id, aliases and upstream ids (KEV, EPSS)


def parse(data: bytes, name: str) -> Parsed | None:
    """The advisory in ``data`` (JSON, or YAML when ``name`` says so); None if withdrawn."""
    return convert(decode(data, name))


def convert(record: OsvRecord) -> Parsed | None:
    """An :class:`OsvRecord` -> :class:`Parsed`; None if withdrawn; RecordError if invalid."""
    if record.withdrawn:
        return None
    if not record.id or len(record.id) > 200:
        raise RecordError("record has no usable id")
    affected = tuple(a for a in map(_affected, record.affected or ()) if a is not None)
    rated = rate(record.severity or (), record.database_specific, affected)
    aliases = tuple(record.aliases or ())
    ids = (record.id, *aliases, *(record.upstream or ()))
    advisory = Advisory(
        id=record.id,
        aliases=aliases,
        summary=record.summary or "",
        details=(record.details or "")[:MAX_DETAILS],
        severity=rated.severity,
        cvss_score=rated.score,
        cvss_vector=rated.vector,
        references=tuple(dict.fromkeys(r.url for r in record.references or () if r.url)),
        published=record.published or "",
        modified=record.modified or "",
        affected=affected,
    )
    cves = tuple(dict.fromkeys(i for i in ids if i.startswith("CVE-")))
    return Parsed(advisory, cves)


def _affected(entry: OsvAffected) -> Affected | None:
    """One affected entry; None when it names no package or nothing matchable."""
    package = entry.package
    if package is None or not package.ecosystem or not package.name:
        return None
    ranges = []
    for rng in entry.ranges or ():
        if rng.type not in _RANGE_TYPES:
            continue
        events = []
        for event in rng.events or ():
            if len(event) != 1:
                raise RecordError(f"range event {event!r} must have exactly one key")
            ((kind, version),) = event.items()
            if kind not in _EVENTS:
                raise RecordError(f"unknown range event {kind!r}")
            events.append((kind, version))
        if events:
            ranges.append(Range(type=rng.type, events=tuple(events)))
    versions = tuple(entry.versions or ())
    if not ranges and not versions:
        return None
    return Affected(
        ecosystem=package.ecosystem,
        package=package.name,
        ranges=tuple(ranges),
        versions=versions,
        severity=entry_rating(entry),
    )
