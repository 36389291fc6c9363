"""Helpers shared by the language-package analyzers (npm, Composer, gems, Cargo, ...).

They decode the file formats those analyzers share (JSON, YAML) with bounded cost, read the
licence fields that npm and Composer write in the same loose shapes, and drop the duplicate
records that lockfiles contain (one per platform, per range that resolved to one version).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import msgspec
import yaml

from seawall.model import Ecosystem, Package


def load_json(data: BinaryIO) -> Any:
    """Decode a JSON document; malformed input raises ValueError (``msgspec.DecodeError``)."""
    return msgspec.json.decode(data.read())


# Lockfiles nest a handful of levels; anything deeper is hostile (PyYAML's C composer recurses
# in Cython and crashes the interpreter on a few hundred thousand nested "[").
MAX_YAML_DEPTH = 64
_PLAIN_VALUES = {
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
    "null": None,
    "Null": None,
    "NULL": None,
    "~": None,
    "": None,
}
_NO_KEY = object()
# libyaml's parser when PyYAML was built with it (the PyPI wheels are); PyYAML's own parser
# (a state machine too, only slower) otherwise.
_YAML_LOADER: type[yaml.CSafeLoader] | type[yaml.SafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)


def _events(document: bytes) -> Iterator[yaml.Event]:
    """libyaml's events for ``document``; the parser's own nesting limit (newer libyaml builds
    stop at 1,000 flow levels while scanning ahead, before Seawall sees an event) is reported
    as Seawall's depth error, so the message does not depend on the library version."""
    try:
        yield from yaml.parse(document, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):
            raise ValueError(f"YAML nested deeper than {MAX_YAML_DEPTH} levels") from None
        raise


def load_yaml_documents(data: BinaryIO) -> list[Any]:
    """Every document of a YAML stream as dicts, lists, strings, booleans and None.

    Built from libyaml's event stream with an explicit stack instead of PyYAML's composer and
    constructor, so that hostile input stays cheap: nesting deeper than ``MAX_YAML_DEPTH``,
    aliases (the "billion laughs") and non-scalar mapping keys raise ValueError. Lockfile
    writers (pnpm uses js-yaml with ``noRefs``) emit none of these. Plain scalars other than
    booleans and null stay strings (``lockfileVersion: 5.4`` is ``"5.4"``); merge keys
    (``<<``) are ordinary keys.
    """
    documents: list[Any] = []
    containers: list[dict[Any, Any] | list[Any]] = []
    keys: list[object] = []  # the pending key of each open mapping

    def attach(value: Any) -> None:
        if not containers:
            documents.append(value)
            return
        parent = containers[-1]
        if isinstance(parent, list):
            parent.append(value)
        elif keys[-1] is _NO_KEY:
            if isinstance(value, (dict, list)):
                raise ValueError("YAML mapping keys must be scalars")
            keys[-1] = value
        else:
            parent[keys[-1]] = value
            keys[-1] = _NO_KEY

    for event in _events(data.read()):
        if isinstance(event, yaml.ScalarEvent):
            plain = not event.style and event.tag is None
            attach(_PLAIN_VALUES.get(event.value, event.value) if plain else event.value)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(containers) >= MAX_YAML_DEPTH:
                raise ValueError(f"YAML nested deeper than {MAX_YAML_DEPTH} levels")
            containers.append({} if isinstance(event, yaml.MappingStartEvent) else [])
            keys.append(_NO_KEY)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            keys.pop()
            attach(containers.pop())
        elif isinstance(event, yaml.AliasEvent):
            raise ValueError("YAML aliases are not supported in lockfiles")
    return documents


def text(value: object) -> str:
    """``value`` stripped if it is a string, else the empty string."""
    return value.strip() if isinstance(value, str) else ""


def license_list(value: object) -> tuple[str, ...]:
    """Licences from an npm/Composer field: ``"MIT"``, ``{"type": "MIT"}`` or a list of those.

    npm's "SEE LICENSE IN <file>" is a pointer, not a licence, and is dropped.
    """
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in items:
        name = text(item.get("type")) if isinstance(item, dict) else text(item)
        if name and not name.upper().startswith("SEE LICEN"):
            found.append(name)
    return tuple(dict.fromkeys(found))


def strip_v(version: str) -> str:
    """``v1.2.3`` -> ``1.2.3`` (Composer and Go tags); other strings are returned unchanged."""
    if len(version) > 1 and version[0] in "vV" and version[1].isdigit():
        return version[1:]
    return version


def unique(packages: Iterable[Package]) -> list[Package]:
    """The packages in order, without repeats of the same (name, version, path)."""
    seen: set[tuple[str, str, str]] = set()
    result: list[Package] = []
    for package in packages:
        key = (package.name, package.version, package.path)
        if key not in seen:
            seen.add(key)
            result.append(package)
    return result


def package(
    ecosystem: Ecosystem, name: str, version: str, path: str, licenses: tuple[str, ...] = ()
) -> Package:
    """A language package (no source package, no arch, purl left to the caller)."""
    return Package(ecosystem=ecosystem, name=name, version=version, path=path, licenses=licenses)
