"""The OSV schema (the parts Seawall reads) and the bounded decoding of one record.

Declared as msgspec structs so that a JSON record is decoded and validated in C in one pass.
Everything optional is lenient (``null`` or absent); anything of the wrong shape makes the
whole record malformed, never half-read. YAML is read with every scalar as a string, without
aliases and with bounded nesting.
"""

from __future__ import annotations

from typing import Any

import msgspec
import yaml

MAX_RECORD_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 64  # OSV records nest about 6 levels; anything far deeper is hostile


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


class _StrLoader(yaml.CSafeLoader):
    """Plain scalars stay strings (``1.10`` is a version, not the float 1.1), except null."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag.endswith(":null")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


_JSON = msgspec.json.Decoder(OsvRecord)


def decode(data: bytes, name: str) -> OsvRecord:
    """Decode a JSON or YAML record (by file name); raise RecordError."""
    if len(data) > MAX_RECORD_BYTES:
        raise RecordError(f"record is {len(data)} bytes (limit {MAX_RECORD_BYTES})")
    try:
        if name.endswith((".yaml", ".yml")):
            return msgspec.convert(_load_yaml(data), OsvRecord)
        return _JSON.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError, yaml.YAMLError) as exc:
        raise RecordError(str(exc).splitlines()[0]) from None
    except RecursionError:
        raise RecordError("nesting too deep") from None


def _load_yaml(data: bytes) -> Any:
    """Load YAML after checking its events: no aliases (bombs), bounded nesting."""
    depth = 0
    for event in yaml.parse(data, Loader=_StrLoader):
        if isinstance(event, yaml.AliasEvent):
            raise RecordError("YAML aliases are not allowed in a record")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise RecordError("nesting too deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return yaml.load(data, Loader=_StrLoader)  # noqa: S506 (a safe loader, strings only)
