"""Helpers shared by the language-package analyzers (npm, Composer, gems, Cargo, ...).

They decode JSON (YAML goes through :func:`seawall.safety.yaml.load_yaml`), read the
licence fields that npm and Composer write in the same loose shapes, and drop the duplicate
records that lockfiles contain (one per platform, per range that resolved to one version).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, BinaryIO

import msgspec

from seawall.model import Ecosystem, Package


def load_json(data: BinaryIO) -> Any:
    """Decode a JSON document; malformed input raises ValueError (``msgspec.DecodeError``)."""
    return msgspec.json.decode(data.read())


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
