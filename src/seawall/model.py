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
    # How many of the bottom layers come from the base image (0: unknown). Read from the
    # history: the base image's last instruction is an empty-layer CMD or ENTRYPOINT that is
    # followed by the image's own layers.
    base_layers: int = 0


class Inventory(msgspec.Struct, frozen=True, kw_only=True):
    """The result of reading an image: its metadata, its distribution and its packages."""

    image: ImageInfo
    distro: OSInfo | None
    packages: tuple[Package, ...]
    warnings: tuple[str, ...] = ()


class Status(enum.StrEnum):
    """The outcome of evaluating one rule on one resource."""

    PASS = "pass"  # noqa: S105  (a status, not a password)
    FAIL = "fail"
    WARN = "warn"
    INFO = "info"
    MANUAL = "manual"  # cannot be assessed automatically: the guidance is reported
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"  # could not be assessed: the reason is in the evidence


class Resource(msgspec.Struct, frozen=True, kw_only=True):
    """What a finding or alert is about: a host, container, image, workload, role, ..."""

    kind: str  # "host", "container", "image", "Pod", "Deployment", "ClusterRoleBinding", ...
    name: str
    id: str = ""  # container id, image digest, object uid
    namespace: str = ""
    attributes: dict[str, str] = msgspec.field(default_factory=dict)

    @property
    def label(self) -> str:
        """``kind namespace/name`` for tables and messages."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    """A rule's metadata, shared by every engine that evaluates it (see ``seawall.rules``)."""

    id: str
    title: str
    severity: Severity = Severity.MEDIUM
    description: str = ""
    rationale: str = ""
    remediation: str = ""
    impact: str = ""
    references: tuple[str, ...] = ()
    # Benchmark and framework mappings, e.g. {"cis-docker-1.6": "5.4", "mitre": "T1611"}.
    mappings: dict[str, str] = msgspec.field(default_factory=dict)
    level: int = 0  # CIS profile level (1 or 2); 0 when not a CIS rule
    scored: bool = True


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """The result of one rule on one resource: what is wrong, the proof, the fix."""

    rule: Rule
    status: Status
    resource: Resource
    evidence: str = ""  # the value, line or field that decided the status
    message: str = ""  # a one-line explanation specific to this resource
    remediation: str = ""  # specific fix (e.g. a patch); the rule's generic one otherwise

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def fix(self) -> str:
        return self.remediation or self.rule.remediation


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    """A run-time detection: what happened, where, when, and the events that proved it."""

    id: str
    rule: Rule
    time: str  # ISO 8601, UTC, of the first matching event
    resource: Resource
    evidence: dict[str, str] = msgspec.field(default_factory=dict)
    source: str = ""  # "k8s-audit", "docker", "auditd"
    tactic: str = ""  # MITRE ATT&CK tactic
    technique: str = ""  # MITRE ATT&CK technique id
    count: int = 1  # repeats folded into this alert
    last_time: str = ""


class Range(msgspec.Struct, frozen=True, kw_only=True):
    """An OSV range: ordered events ``(kind, version)`` with kind one of ``introduced``,
    ``fixed``, ``last_affected``, ``limit``; ``type`` is ``ECOSYSTEM`` or ``SEMVER``."""

    type: str
    events: tuple[tuple[str, str], ...]


class Affected(msgspec.Struct, frozen=True, kw_only=True):
    """Which versions of one package an advisory affects, in one ecosystem (and release)."""

    ecosystem: str  # OSV's full ecosystem string: "PyPI", "Debian:12", "Alpine:v3.19"
    package: str  # the name as the ecosystem spells it (a source package for distros)
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    severity: str = ""  # the distro's or ecosystem's own rating, when the record gives one


class Advisory(msgspec.Struct, frozen=True, kw_only=True):
    """One OSV record, reduced to what matching, severity and reports need."""

    id: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    severity: Severity = Severity.UNKNOWN
    cvss_score: float | None = None
    cvss_vector: str = ""
    references: tuple[str, ...] = ()
    published: str = ""
    modified: str = ""
    affected: tuple[Affected, ...] = ()
    known_exploited: bool = False  # listed in CISA KEV
    epss: float | None = None  # EPSS probability, 0-1


class Vulnerability(msgspec.Struct, frozen=True, kw_only=True):
    """One advisory matched to one installed package."""

    advisory: Advisory
    package: Package
    severity: Severity
    fixed_version: str = ""  # lowest version that fixes it; "" when not yet fixed
    severity_source: str = ""  # "debian", "ghsa", "cvss-v3", ...

    @property
    def fixed(self) -> bool:
        return bool(self.fixed_version)
