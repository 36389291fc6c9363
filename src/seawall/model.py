"""The shared vocabulary every Seawall engine speaks.

Plain, frozen ``msgspec`` structs with no I/O: they serialise to JSON fast (the layer cache and
the JSON report use that) and compare by value. Engines build them; reports render them.
"""

from __future__ import annotations

import enum

import msgspec


class Severity(enum.IntEnum):
    """How bad a finding is, ordered so that ``Severity.HIGH > Severity.MEDIUM``."""

    UNKNOWN = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity name in any case (``"High"``, ``"CRITICAL"``); raise ValueError."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None


class Ecosystem(enum.StrEnum):
    """Where a package comes from; the value is the purl type."""

    DEB = "deb"
    APK = "apk"
    RPM = "rpm"
    PYPI = "pypi"
    NPM = "npm"
    GOLANG = "golang"
    MAVEN = "maven"
    GEM = "gem"
    CARGO = "cargo"
    COMPOSER = "composer"
    NUGET = "nuget"

    @property
    def is_os(self) -> bool:
        """True for the package managers of a Linux distribution."""
        return self in (Ecosystem.DEB, Ecosystem.APK, Ecosystem.RPM)


class OSInfo(msgspec.Struct, frozen=True, kw_only=True):
    """The distribution an image is built on, from ``/etc/os-release`` or a release file."""

    id: str  # "debian", "ubuntu", "alpine", "rhel", "rocky", "sles", "wolfi", ...
    version_id: str = ""  # "12", "22.04", "3.19.1"
    name: str = ""  # "Debian GNU/Linux 12 (bookworm)"
    codename: str = ""
    id_like: tuple[str, ...] = ()

    @property
    def pretty(self) -> str:
        """A short human label such as ``debian 12``."""
        return f"{self.id} {self.version_id}".strip()


class Package(msgspec.Struct, frozen=True, kw_only=True):
    """One installed package, with where it was found and which layer brought it.

    ``name`` is the name the ecosystem's advisories use: ``@babel/core`` (npm),
    ``org.apache.logging.log4j:log4j-core`` (Maven), ``golang.org/x/net`` (Go),
    ``symfony/http-kernel`` (Composer). ``version`` is the ecosystem's own full version
    string (for rpm ``[epoch:]version-release``, for dpkg ``[epoch:]upstream[-revision]``).
    ``source_name``/``source_version`` name the source package of an OS package, which distro
    advisories are written against.
    """

    ecosystem: Ecosystem
    name: str
    version: str
    path: str  # the file inside the image that declared the package, no leading slash
    source_name: str = ""
    source_version: str = ""
    arch: str = ""
    licenses: tuple[str, ...] = ()
    purl: str = ""
    layer_digest: str = ""
    layer_created_by: str = ""
    # Files the package owns (OS packages only), used to drop language packages that an OS
    # package already installed; not written to reports.
    owned_files: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity of the package within one image, independent of where it was declared."""
        return (self.ecosystem.value, self.name, self.version)


class LayerInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One filesystem layer of an image, in build order (index 0 is the base)."""

    index: int
    digest: str  # digest of the blob as stored (compressed), or the diff_id if unknown
    diff_id: str = ""  # digest of the uncompressed tar
    size: int = 0
    media_type: str = ""
    created_by: str = ""


class ImageInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What Seawall knows about an image apart from its packages."""

    reference: str
    source: str  # "docker-archive", "oci-layout", "oci-archive", "registry", "docker-daemon"
    config_digest: str = ""
    manifest_digest: str = ""
    repo_tags: tuple[str, ...] = ()
    os: str = ""
    architecture: str = ""
    variant: str = ""
    created: str = ""
    layers: tuple[LayerInfo, ...] = ()


class Inventory(msgspec.Struct, frozen=True, kw_only=True):
    """The result of reading an image: its metadata, its distribution and its packages."""

    image: ImageInfo
    distro: OSInfo | None
    packages: tuple[Package, ...]
    warnings: tuple[str, ...] = ()
