"""Which scheme orders which OSV ecosystem; the release suffix (``Debian:12``) does not matter."""

from __future__ import annotations

from seawall.vulndb.versions import (
    UnknownEcosystem,
    VersionScheme,
    apk,
    dpkg,
    maven,
    packagist,
    pep440,
    rpm,
    rubygems,
    semver,
)

_BY_BASE: dict[str, VersionScheme] = {
    "debian": dpkg.SCHEME,
    "ubuntu": dpkg.SCHEME,
    "alpine": apk.SCHEME,
    "wolfi": apk.SCHEME,
    "chainguard": apk.SCHEME,
    "minimos": apk.SCHEME,
    "alpaquita": apk.SCHEME,
    "bellsoft hardened containers": apk.SCHEME,
    "red hat": rpm.SCHEME,
    "almalinux": rpm.SCHEME,
    "rocky linux": rpm.SCHEME,
    "suse": rpm.SCHEME,
    "opensuse": rpm.SCHEME,
    "mageia": rpm.SCHEME,
    "openeuler": rpm.SCHEME,
    "photon os": rpm.SCHEME,
    "azure linux": rpm.SCHEME,
    "pypi": pep440.SCHEME,
    "npm": semver.NPM,
    "crates.io": semver.CARGO,
    "go": semver.GO,
    "nuget": semver.NUGET,
    "packagist": packagist.SCHEME,
    "maven": maven.SCHEME,
    "rubygems": rubygems.SCHEME,
    "semver": semver.SEMVER,  # OSV SEMVER ranges, whatever the ecosystem
}


def lookup(ecosystem: str) -> VersionScheme:
    """The scheme for ``ecosystem``; raises UnknownEcosystem for a name none covers."""
    base = ecosystem.split(":", 1)[0].strip().casefold()
    scheme = _BY_BASE.get(base)
    if scheme is None:
        known = ", ".join(sorted(_BY_BASE))
        raise UnknownEcosystem(
            f"no version ordering for ecosystem {ecosystem!r}", hint=f"known: {known}"
        )
    return scheme
