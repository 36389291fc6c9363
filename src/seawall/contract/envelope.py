"""The result envelope, version 1: one shape for everything an engine reports.

Every engine's ``-f json``, every ``--upload`` and the center's ingest speak this envelope:
a schema id and kind, when and by which Seawall it was produced (and with which advisory
database, where matching happened), the asset it is about with a stable identity, each rule
once by a namespaced id, and the results with stable fingerprints, passes and not-applicable
results included so that healthy counts exist. Severities are names, never numbers.

Kind-specific payloads ride beside the results: the inventory of an image, the remediation
plan of a scan, the containers of a host, the workloads of a cluster, run-time alerts and
admission decisions. Streams (``runtime watch``, the admission decision log) write the
records of those lists one per line; batches and uploads wrap them in an envelope.

The structs are plain data (no I/O): :mod:`seawall.contract.codec` encodes and validates,
:mod:`seawall.contract.schema` publishes the JSON Schema.
"""

from __future__ import annotations

import enum
from typing import Literal

import msgspec

from seawall.model import Inventory, Severity, Status

SCHEMA_ID = "https://seawall.dev/schemas/result/v1"

SeverityName = Literal["critical", "high", "medium", "low", "unknown"]


# a table, not ``severity.name.lower()``: an enum's ``name`` is a descriptor call, and a
# re-match spells every finding's severity several times
_SEVERITY_NAMES: dict[Severity, SeverityName] = {
    s: s.name.lower()  # type: ignore[misc]
    for s in Severity
}


def severity_name(severity: Severity) -> SeverityName:
    """The envelope's spelling of a severity (``Severity.HIGH`` -> ``"high"``)."""
    return _SEVERITY_NAMES[severity]


def severity_of(name: str) -> Severity:
    """The model's severity for an envelope name."""
    return Severity[name.upper()]


class Kind(enum.StrEnum):
    """What an envelope reports."""

    INVENTORY = "inventory"  # the packages of an image (seawall sbom)
    IMAGE_SCAN = "image-scan"  # its vulnerabilities (image scan, sbom match)
    HOST_AUDIT = "host-audit"  # CIS Docker Benchmark of a Docker host
    NODE_AUDIT = "node-audit"  # CIS Kubernetes Benchmark of a Kubernetes node
    K8S_SCAN = "k8s-scan"  # policy results of manifests or a cluster
    ALERTS = "alerts"  # run-time detections
    ADMISSION = "admission"  # admission webhook decisions


class AssetType(enum.StrEnum):
    IMAGE = "image"
    HOST = "host"
    CLUSTER = "cluster"
    NODE = "node"


class Tool(msgspec.Struct, frozen=True, kw_only=True):
    name: str = "seawall"
    version: str


class Database(msgspec.Struct, frozen=True, kw_only=True):
    """The advisory database a scan was matched against."""

    built_at: str  # ISO 8601 UTC; the version the center compares
    advisories: int = 0
    sources: tuple[str, ...] = ()


class Asset(msgspec.Struct, frozen=True, kw_only=True):
    """What the envelope is about, with an identity that stays the same across runs.

    ``id`` is the config digest of an image (its manifest digest when no config digest is
    known), the Docker Engine's ID of a host, the ``kube-system`` namespace UID of a cluster.
    ``name:NAME`` stands for a host or cluster known only by its name (manifests scanned from
    files, alerts from an audit log): the center matches it to the asset of that name.
    """

    type: AssetType
    id: str
    name: str
    manifest_digest: str = ""
    config_digest: str = ""
    references: tuple[str, ...] = ()
    platform: str = ""  # os/arch[/variant] of an image
    attributes: dict[str, str] = msgspec.field(default_factory=dict)


class RuleInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A rule (or advisory) once, by its namespaced id: ``cis-docker-1.6/5.4``,
    ``k8s/pss-baseline-privileged``, ``gatekeeper/K8sRequiredLabels/must-have-owner``,
    ``runtime/k8s-exec-into-pod``, ``osv/GHSA-xxxx-xxxx-xxxx``."""

    id: str
    title: str
    severity: SeverityName
    description: str = ""
    rationale: str = ""
    remediation: str = ""
    impact: str = ""
    references: tuple[str, ...] = ()
    mappings: dict[str, str] = msgspec.field(default_factory=dict)
    level: int = 0
    scored: bool = True
    # advisories only
    aliases: tuple[str, ...] = ()
    cvss_score: float | None = None
    cvss_vector: str = ""
    published: str = ""
    modified: str = ""
    known_exploited: bool = False
    epss: float | None = None


class ResourceRef(msgspec.Struct, frozen=True, kw_only=True):
    """The part of the asset a result is about: a container, a workload, a package, ..."""

    kind: str
    name: str
    namespace: str = ""
    id: str = ""
    attributes: dict[str, str] = msgspec.field(default_factory=dict)


class PackageRef(msgspec.Struct, frozen=True, kw_only=True):
    """The package a vulnerability was found in, and the layer that brought it."""

    ecosystem: str
    name: str
    version: str
    purl: str = ""
    path: str = ""
    source_name: str = ""
    source_version: str = ""
    layer_digest: str = ""
    layer_created_by: str = ""


class Result(msgspec.Struct, frozen=True, kw_only=True):
    """One rule on one resource. ``fingerprint`` is stable across runs for the same asset,
    rule and resource, so the center follows a finding from first seen to resolved."""

    rule: str
    fingerprint: str
    status: Status
    severity: SeverityName
    resource: ResourceRef
    evidence: str = ""
    message: str = ""
    remediation: str = ""
    package: PackageRef | None = None  # vulnerabilities
    fixed_version: str = ""  # vulnerabilities: "" when no fix is published
    severity_source: str = ""  # vulnerabilities: "debian", "ghsa", "cvss-v3", ...
    action: str = ""  # Kubernetes policies: deny, warn or dryrun at admission


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """Counts of results by status, and of failing results by severity."""

    statuses: dict[str, int] = msgspec.field(default_factory=dict)
    severities: dict[str, int] = msgspec.field(default_factory=dict)
    healthy: bool | None = None  # nothing at or above ``threshold`` (None: no threshold)
    threshold: str = ""


class Remediation(msgspec.Struct, frozen=True, kw_only=True):
    """How to fix one vulnerable package of an image."""

    package: PackageRef
    vulnerabilities: tuple[str, ...]  # rule ids this fixes
    fixed_version: str
    unfixed: tuple[str, ...] = ()
    command: str = ""
    advice: str = ""
    layer_index: int | None = None
    created_by: str = ""
    from_base_image: bool = False


class Suppressed(msgspec.Struct, frozen=True, kw_only=True):
    """A vulnerability left out by VEX or an ignore file, and why."""

    rule: str
    package: str
    version: str
    status: str
    reason: str
    source: str


class Container(msgspec.Struct, frozen=True, kw_only=True):
    """A container on a Docker host and the image it runs."""

    id: str
    name: str
    image: str  # the reference it was started from
    image_id: str = ""  # the image's config digest
    running: bool = False
    labels: dict[str, str] = msgspec.field(default_factory=dict)


class HostDetails(msgspec.Struct, frozen=True, kw_only=True):
    """What a Docker host runs: versions, OS, counts and its containers."""

    endpoint: str = ""
    engine: str = ""  # docker, podman, rootless, unknown
    docker_version: str = ""
    api_version: str = ""
    containerd_version: str = ""
    os: str = ""
    kernel: str = ""
    architecture: str = ""
    images: int = 0
    containers_running: int = 0
    containers_stopped: int = 0
    containers: tuple[Container, ...] = ()
    score_percent: float = 0.0
    error: str = ""


class NodeDetails(msgspec.Struct, frozen=True, kw_only=True):
    """A Kubernetes node's CIS audit: the cluster it belongs to, how it was installed, its
    role, and where each component's settings were read."""

    cluster: str = ""  # the cluster's name (``--cluster``); "" when not given
    api_server: str = ""  # the API server the kubelet talks to (its kubeconfig)
    layout: str = ""  # kubeadm, k3s, rke2, eks, gke, aks, unknown
    role: str = ""  # control-plane, node
    benchmark: str = ""  # cis-1.12
    components: dict[str, str] = msgspec.field(default_factory=dict)
    score_percent: float = 0.0
    error: str = ""


class Workload(msgspec.Struct, frozen=True, kw_only=True):
    """A Kubernetes object that was assessed, with the images its pods run."""

    kind: str
    name: str
    namespace: str = ""
    uid: str = ""
    api_version: str = ""
    images: tuple[str, ...] = ()
    labels: dict[str, str] = msgspec.field(default_factory=dict)


class AlertRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A run-time alert: what happened, where, when, the evidence and the MITRE tactic."""

    id: str
    rule: str
    title: str
    severity: SeverityName
    time: str
    last_time: str
    count: int = 1
    source: str = ""
    tactic: str = ""
    technique: str = ""
    resource: ResourceRef
    evidence: dict[str, str] = msgspec.field(default_factory=dict)
    remediation: str = ""


class AdmissionDecision(msgspec.Struct, frozen=True, kw_only=True):
    """One admission review and what the webhook answered (or would have, in audit mode)."""

    time: str
    uid: str
    operation: str
    kind: str
    namespace: str = ""
    name: str = ""
    user: str = ""
    mode: str = ""
    allowed: bool = True
    would_deny: bool = False
    violations: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    dryrun: tuple[str, ...] = ()
    ms: float = 0.0


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """The versioned result document (see the module docstring)."""

    schema: str = SCHEMA_ID
    kind: Kind
    produced_at: str  # ISO 8601 UTC
    tool: Tool
    asset: Asset
    database: Database | None = None
    rules: tuple[RuleInfo, ...] = ()
    results: tuple[Result, ...] = ()
    summary: Summary = msgspec.field(default_factory=Summary)
    inventory: Inventory | None = None
    remediations: tuple[Remediation, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()
    host: HostDetails | None = None
    node: NodeDetails | None = None
    workloads: tuple[Workload, ...] = ()
    alerts: tuple[AlertRecord, ...] = ()
    decisions: tuple[AdmissionDecision, ...] = ()
    warnings: tuple[str, ...] = ()
