"""Index keys of the advisory store: OSV ecosystem strings split, package names normalised.

An OSV ecosystem such as ``Debian:12`` or ``Ubuntu:22.04:LTS`` is split once, at import, into a
base name (``Debian``, ``Ubuntu``) and a release (``12``, ``22.04``); the store is indexed by
``(base, release, normalised package name)`` so a lookup never parses strings.
"""

from __future__ import annotations

import re

# The per-ecosystem ``all.zip`` archives ``seawall db update`` fetches, as OSV spells them.
OSV_ECOSYSTEMS: tuple[str, ...] = (
    "Debian",
    "Ubuntu",
    "Alpine",
    "Red Hat",
    "AlmaLinux",
    "Rocky Linux",
    "SUSE",
    "openSUSE",
    "Wolfi",
    "Chainguard",
    "PyPI",
    "npm",
    "Go",
    "Maven",
    "RubyGems",
    "crates.io",
    "Packagist",
    "NuGet",
)

_PEP503 = re.compile(r"[-_.]+")


def canonical_ecosystem(name: str) -> str:
    """The OSV spelling of an archive name given in any case; raise ValueError if unknown."""
    for known in OSV_ECOSYSTEMS:
        if known.lower() == name.strip().lower():
            return known
    raise ValueError(f"unknown ecosystem {name!r} (expected one of: {', '.join(OSV_ECOSYSTEMS)})")


def split_ecosystem(ecosystem: str) -> tuple[str, str]:
    """``"Debian:12"`` -> ``("Debian", "12")``; ``"Ubuntu:22.04:LTS"`` -> ``("Ubuntu", "22.04")``.

    The release is what follows the first colon, without Ubuntu's ``:LTS`` suffix and without
    Alpine's ``v`` prefix (``Alpine:v3.19`` -> ``3.19``, comparable with os-release's
    ``VERSION_ID`` cut to major.minor). Language ecosystems have release ``""``.
    """
    base, _, release = ecosystem.strip().partition(":")
    if base == "Ubuntu" and release.endswith(":LTS"):
        release = release[: -len(":LTS")]
    elif base == "Alpine" and release.startswith("v"):
        release = release[1:]
    return base, release


def normalise_package(base: str, name: str) -> str:
    """The name as the index stores it: PEP 503 for PyPI, unchanged elsewhere."""
    if base == "PyPI":
        return _PEP503.sub("-", name).lower()
    return name


def package_key(ecosystem: str, package: str) -> tuple[str, str, str]:
    """The ``packages`` row an OSV ``affected`` entry is filed under: (base, release, name)."""
    base, release = split_ecosystem(ecosystem)
    return base, release, normalise_package(base, package)
