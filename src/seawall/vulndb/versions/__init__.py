"""Exact version ordering for every ecosystem the advisory matcher meets.

Each ecosystem's package manager has its own idea of which version is newer; an advisory's
``fixed: 1.2.3-r1`` is only meaningful under that idea. A :class:`VersionScheme` turns a version
string into a sort key, so the matcher compares keys (fast, cached) instead of re-parsing:
``key(a) < key(b)`` exactly when the package manager says ``a < b``, equal keys exactly when
it says they are equal. Keys of different schemes are not comparable with each other.

``scheme_for`` takes OSV ecosystem strings with or without their release suffix
(``"Debian:12"``, ``"Alpine:v3.19"``, ``"PyPI"``); ``"SEMVER"`` names the plain SemVer 2.0
ordering of OSV ``SEMVER`` ranges.
"""

from __future__ import annotations

from typing import Any, Protocol

from seawall.errors import InputError


class InvalidVersion(InputError, ValueError):
    """A string the ecosystem does not accept as a version."""

    def __init__(self, scheme: str, version: str, why: str = "") -> None:
        shown = version if len(version) <= 80 else version[:77] + "..."
        super().__init__(
            f"{scheme}: not a valid version: {shown!r}",
            hint=why or f"expected a {scheme} version",
        )


class UnknownEcosystem(InputError, ValueError):
    """An ecosystem name no version scheme is registered for."""


class VersionScheme(Protocol):
    """One ecosystem's ordering: ``key`` maps a version string to a sort key."""

    name: str

    def key(self, version: str) -> Any:
        """A sort key; raises :class:`InvalidVersion` for strings the ecosystem rejects."""
        ...


def scheme_for(ecosystem: str) -> VersionScheme:
    """The scheme for an OSV ecosystem string (``"Ubuntu:22.04:LTS"`` -> dpkg)."""
    from seawall.vulndb.versions.registry import lookup

    return lookup(ecosystem)


def compare(ecosystem: str, a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is older than, the same as, or newer than ``b`` in ``ecosystem``."""
    key = scheme_for(ecosystem).key
    ka, kb = key(a), key(b)
    return int((ka > kb) - (ka < kb))


__all__ = ["InvalidVersion", "UnknownEcosystem", "VersionScheme", "compare", "scheme_for"]
