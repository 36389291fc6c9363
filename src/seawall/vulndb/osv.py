"""The OSV schema (the parts Seawall reads) and the bounded decoding of one record.

Declared as msgspec structs so that a JSON record is decoded and validated in C in one pass,
its nesting checked first (:mod:`seawall.safety.jsondoc`). Everything optional is lenient
(``null`` or absent); anything of the wrong shape makes the whole record malformed, never
half-read, and the error names the field (``field affected: expected list or null, got
string``). YAML goes through the safe loader with plain scalars kept as strings (``1.10`` is a
version, not the float 1.1): bounded nesting, aliases against a budget, no timestamps.
"""

from __future__ import annotations

from typing import Any

import msgspec

from seawall.safety.jsondoc import JsonError, describe, parse_json
from seawall.safety.limits import max_bytes
from seawall.safety.yaml import YamlError, load_yaml

MAX_NODES = 1_000_000  # a YAML record's nodes, aliases included (a large record: ~50,000)


class RecordError(ValueError):
    """A record that is not valid OSV (or is too large or too deep to read safely)."""


class OsvSeverity(msgspec.Struct):
    type: str = ""
    score: str | float | None = None


class OsvPackage(msgspec.Struct):
    ecosystem: str = ""
    name: str = ""


class OsvRange(msgspec.Struct):
    type: str = ""
    events: list[dict[str, str]] | None = None


class OsvAffected(msgspec.Struct):
    package: OsvPackage | None = None
    severity: list[OsvSeverity] | None = None
    ranges: list[OsvRange] | None = None
    versions: list[str] | None = None
    ecosystem_specific: Any = None
    database_specific: Any = None


class OsvReference(msgspec.Struct):
    type: str = ""
    url: str = ""


class OsvRecord(msgspec.Struct):
    """The parts of the OSV schema (1.6) Seawall reads."""

    id: str
    modified: str | None = None
    published: str | None = None
    withdrawn: str | None = None
    aliases: list[str] | None = None
    upstream: list[str] | None = None
    summary: str | None = None
    details: str | None = None
    severity: list[OsvSeverity] | None = None
    affected: list[OsvAffected] | None = None
    references: list[OsvReference] | None = None
    database_specific: Any = None


def max_record_bytes() -> int:
    """The size cap of one record (``SEAWALL_MAX_OSV_RECORD_BYTES``)."""
    return max_bytes("OSV_RECORD")


def decode(data: bytes, name: str) -> OsvRecord:
    """Decode a JSON or YAML record (by file name); raise RecordError."""
    limit = max_record_bytes()
    if len(data) > limit:
        raise RecordError(f"record is {len(data)} bytes (limit {limit})")
    try:
        if name.endswith((".yaml", ".yml")):
            return msgspec.convert(_load_yaml(data), OsvRecord)
        return parse_json(data, OsvRecord)
    except msgspec.ValidationError as exc:
        raise RecordError(describe(exc)) from None
    except (JsonError, YamlError) as exc:
        raise RecordError(str(exc)) from None


def _load_yaml(data: bytes) -> Any:
    documents = load_yaml(data, strings=True, max_nodes=MAX_NODES, max_documents=1)
    if not documents:
        raise RecordError("an empty YAML file")
    return documents[0]
