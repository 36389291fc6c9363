"""The normalised event model shared by every source, and the field catalogue rules use.

An :class:`Event` keeps what its source decoded (``raw``) and computes fields on demand:
most events are benign and meet few rules, so extracting every field up front would waste
most of the time budget. The fields a source indexes on are filled eagerly in ``fields``;
the others are computed the first time a rule asks and cached in the same dict.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from seawall.model import Resource

Value = str | int | bool | tuple[str, ...] | None


class FieldType(enum.StrEnum):
    """What a field holds; decides how literals in a condition are read."""

    STR = "str"
    INT = "int"
    BOOL = "bool"
    IP = "ip"


class Event:
    """One event from one source. ``key`` is the tuple of the source's index fields."""

    __slots__ = ("fields", "key", "raw", "source")

    def __init__(self, source: str, key: tuple[Any, ...], raw: Any, fields: dict[str, Value]):
        self.source = source
        self.key = key
        self.raw = raw
        self.fields = fields

    def __repr__(self) -> str:
        return f"Event({self.source}, {self.key})"


Extractor = Callable[[Event], Value]


@dataclass(frozen=True)
class FieldSpec:
    """A field rules can test: its name, how to compute it, whether it has many values."""

    name: str
    extract: Extractor
    type: FieldType = FieldType.STR
    multi: bool = False  # a tuple of values: a comparison holds when any value matches
    doc: str = ""
    cached: bool = True  # False for trivial extractors: recomputing beats the cache lookup


@dataclass(frozen=True)
class SourceSpec:
    """What the rule engine needs to know about a source."""

    name: str
    fields: dict[str, FieldSpec]
    index_fields: tuple[str, ...]  # filled eagerly; rules are indexed on their values
    resource: Callable[[Event], Resource]
    time: Callable[[Event], str]  # ISO 8601 UTC time of the event


SOURCES: dict[str, SourceSpec] = {}


def field(
    name: str,
    extract: Extractor,
    type: FieldType = FieldType.STR,
    multi: bool = False,
    doc: str = "",
    cached: bool = True,
) -> FieldSpec:
    """A FieldSpec, positionally (sources declare dozens of them in one table)."""
    return FieldSpec(name, extract, type, multi, doc, cached)


def field_table(*specs: FieldSpec) -> dict[str, FieldSpec]:
    """Field specs by name."""
    return {spec.name: spec for spec in specs}


def image_repository(image: str) -> str:
    """An image reference without its tag or digest (``reg:5000/app:1.2`` -> ``reg:5000/app``)."""
    base = image.split("@", 1)[0]
    slash, colon = base.rfind("/"), base.rfind(":")
    return base[:colon] if colon > slash else base


def register_source(spec: SourceSpec) -> SourceSpec:
    """Add a source to the registry the rule loader reads (each source module calls it)."""
    SOURCES[spec.name] = spec
    return spec


def field_value(event: Event, spec: FieldSpec) -> Value:
    """The value of one field of ``event``, computed once and cached."""
    fields = event.fields
    if spec.name in fields:
        return fields[spec.name]
    value = fields[spec.name] = spec.extract(event)
    return value


_URL_HOST = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/\s]*@)?(\[[0-9a-fA-F:]+\]|[^:/\s?#'\"]+)")


def url_hosts(text: str) -> tuple[str, ...]:
    """Hosts of the URLs in a command line (``curl http://evil.example/x`` -> evil.example)."""
    return tuple(dict.fromkeys(m.group(1).strip("[]").lower() for m in _URL_HOST.finditer(text)))


def load_sources() -> dict[str, SourceSpec]:
    """Import every source module (they register themselves) and return the registry."""
    from seawall.runtime.sources import auditd, docker_events, k8s_audit  # noqa: F401

    return SOURCES
