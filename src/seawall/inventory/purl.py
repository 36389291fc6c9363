"""Package URLs (purl) for inventory packages, per the purl specification's type rules."""

from __future__ import annotations

import re

from packageurl import PackageURL

from seawall.model import Ecosystem, OSInfo, Package

# purl's rpm namespace is the vendor, which is not always the os-release ID.
_RPM_VENDOR = {
    "rhel": "redhat",
    "sles": "suse",
    "sled": "suse",
    "opensuse-leap": "opensuse",
    "opensuse-tumbleweed": "opensuse",
    "amzn": "amazon",
    "ol": "oracle",
}


def _split(name: str, separator: str) -> tuple[str | None, str]:
    """Split ``ns<sep>name`` at the last separator into (namespace, name)."""
    namespace, sep, short = name.rpartition(separator)
    return (namespace, short) if sep and namespace else (None, name)


def package_url(package: Package, distro: OSInfo | None) -> str:
    """The purl of ``package``; OS packages carry the distribution as a qualifier."""
    eco = package.ecosystem
    namespace: str | None = None
    name = package.name
    version = package.version
    qualifiers: dict[str, str] = {}
    if package.arch:
        qualifiers["arch"] = package.arch
    if eco.is_os:
        vendor = distro.id if distro else ""
        if eco is Ecosystem.RPM:
            vendor = _RPM_VENDOR.get(vendor, vendor)
            epoch, sep, rest = version.partition(":")
            if sep and epoch.isdigit():
                qualifiers["epoch"] = epoch
                version = rest
        namespace = vendor or None
        if distro and distro.version_id:
            qualifiers["distro"] = (
                distro.version_id if eco is Ecosystem.APK else f"{distro.id}-{distro.version_id}"
            )
        if package.source_name and package.source_name != package.name:
            qualifiers["upstream"] = package.source_name
    elif eco is Ecosystem.PYPI:
        name = re.sub(r"[-_.]+", "-", name).lower()
    elif eco in (Ecosystem.NPM, Ecosystem.COMPOSER, Ecosystem.GOLANG):
        namespace, name = _split(name, "/")
    elif eco is Ecosystem.MAVEN:
        namespace, name = _split(name, ":")
    return str(
        PackageURL(
            type=eco.value,
            namespace=namespace,
            name=name,
            version=version or None,
            qualifiers=qualifiers or None,
        ).to_string()
    )
