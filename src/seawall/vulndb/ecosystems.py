"""Where to look a package up in the advisory store: OSV ecosystem, release, name, version.

Distribution advisories are written against source packages and a release (``Debian:12``,
``Alpine:v3.19``, ``Ubuntu:22.04:LTS``), so a dpkg or apk package is looked up by its source
name and source version under the image's release (as the store keys it: ``12``, ``3.19``,
``22.04``). rpm advisories (AlmaLinux, Rocky) name binary packages. Language packages are
looked up by their own name in their ecosystem.
"""

from __future__ import annotations

import msgspec

from seawall.model import Ecosystem, OSInfo, Package
from seawall.vulndb.keys import normalise_package

# Language ecosystems: OSV base name; their advisories have no release.
_LANGUAGE = {
    Ecosystem.PYPI: "PyPI",
    Ecosystem.NPM: "npm",
    Ecosystem.GOLANG: "Go",
    Ecosystem.MAVEN: "Maven",
    Ecosystem.GEM: "RubyGems",
    Ecosystem.CARGO: "crates.io",
    Ecosystem.COMPOSER: "Packagist",
    Ecosystem.NUGET: "NuGet",
}
# os-release ID -> (OSV base name, how many dot-separated parts of VERSION_ID the release has;
# 0: the ecosystem has no releases).
_DISTROS = {
    "debian": ("Debian", 1),
    "ubuntu": ("Ubuntu", 2),
    "alpine": ("Alpine", 2),
    "wolfi": ("Wolfi", 0),
    "chainguard": ("Chainguard", 0),
    "almalinux": ("AlmaLinux", 1),
    "rocky": ("Rocky Linux", 1),
    "rhel": ("Red Hat", 1),
    "sles": ("SUSE", 0),
    "opensuse-leap": ("openSUSE", 0),
}


class Query(msgspec.Struct, frozen=True):
    """What to look up in the store for one package: most specific release first."""

    ecosystem: str  # OSV base name: "Debian", "PyPI"
    releases: tuple[str, ...]
    name: str
    version: str


def query_for(package: Package, distro: OSInfo | None) -> Query | None:
    """The store query for ``package``; None when no advisory source covers it."""
    base = _LANGUAGE.get(package.ecosystem)
    if base is not None:
        return Query(base, ("",), normalise_package(base, package.name), package.version)
    if distro is None or distro.id not in _DISTROS:
        return None
    base, parts = _DISTROS[distro.id]
    release = ".".join(distro.version_id.split(".")[:parts]) if parts else ""
    name, version = package.name, package.version
    if package.ecosystem in (Ecosystem.DEB, Ecosystem.APK) and package.source_name:
        name, version = package.source_name, package.source_version or package.version
    return Query(base, (release,), name, version)
