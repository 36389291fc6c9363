"""The API's request and response bodies (pydantic: validated in, documented in OpenAPI)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from seawall.center.security.scope import parse_selector

if TYPE_CHECKING:
    from seawall.center.pages import Page

T = TypeVar("T")
SeverityName = Literal["critical", "high", "medium", "low", "unknown"]
RoleName = Literal["reader", "contributor", "owner"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListOf(Model, Generic[T]):
    items: list[T]
    total: int
    next: str | None = Field(None, description="Cursor of the next page (pass as ?cursor=)")

    @classmethod
    def of(cls, page: Page[T]) -> Self:
        """The API's shape of a page of the read side."""
        return cls(items=page.items, total=page.total, next=page.next)


class Counts(Model):
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    unknown: int = 0
    total: int = 0


class Placement(Model):
    """Where an image runs: a container on a host, or a workload in a cluster."""

    type: str
    id: int
    name: str
    where: str
    reference: str


class ImageItem(Model):
    id: int
    digest: str
    manifest_digests: list[str]
    references: list[str]
    name: str
    healthy: bool | None
    running: bool
    counts: Counts
    last_scanned: dt.datetime | None
    first_seen: dt.datetime
    platform: str = ""
    distro: str = ""
    packages: int | None = None


class ImageDetail(ImageItem):
    runs_on: list[Placement]
    database: str = Field("", description="Build time of the advisory database last matched")
    layers: list[dict[str, Any]] = []


class AssessedItem(Model):
    """What a list of the assets scans are about shows of each: its identity, health and
    open findings by severity."""

    id: int
    key: str
    name: str
    healthy: bool | None
    counts: Counts
    last_scanned: dt.datetime | None


class HostItem(AssessedItem):
    docker_version: str = ""
    os: str = ""
    engine: str = ""
    containers: int = 0
    images: int = 0
    score_percent: float | None = None


class ContainerItem(Model):
    id: int
    name: str
    container_id: str
    image: str
    image_id: str
    running: bool
    healthy: bool | None
    counts: Counts


class HostDetail(HostItem):
    kernel: str = ""
    endpoint: str = ""
    containers_running: int = 0
    containers_list: list[ContainerItem] = []


class ClusterItem(AssessedItem):
    source: str = ""
    namespaces: int = 0
    workloads: int = 0
    nodes: int = 0


class NodeItem(AssessedItem):
    """A Kubernetes node and its latest CIS Kubernetes Benchmark audit; ``counts`` are its
    open failed checks."""

    cluster: str = Field("", description="The cluster it belongs to (none: it stands alone)")
    cluster_id: int | None = None
    role: str = Field("", description="control-plane or node")
    layout: str = Field("", description="kubeadm, k3s, rke2, eks, gke, aks or unknown")
    benchmark: str = ""
    score_percent: float | None = Field(None, description="Scored checks passed, in percent")


class NodeDetail(NodeItem):
    api_server: str = ""
    components: dict[str, str] = Field({}, description="Where each component's settings were read")
    error: str = ""


class RegistryItem(Model):
    """A registry images were seen in, with how many repositories and images it holds."""

    id: int
    name: str
    repositories: int
    images: int
    unhealthy_images: int
    last_seen: dt.datetime


class WorkloadItem(Model):
    id: int
    cluster: str
    namespace: str
    kind: str
    name: str
    images: list[str]
    healthy: bool | None
    counts: Counts
    last_seen: dt.datetime


class FindingItem(Model):
    id: int
    fingerprint: str
    kind: str
    rule: str
    title: str
    severity: SeverityName
    status: str
    state: Literal["open", "suppressed", "resolved", "passing"]
    asset: dict[str, Any]
    resource: dict[str, str]
    package: str = ""
    version: str = ""
    fixed_version: str = ""
    evidence: str = ""
    message: str = ""
    remediation: str = ""
    first_seen: dt.datetime
    last_seen: dt.datetime
    resolved_at: dt.datetime | None = None
    reopened_at: dt.datetime | None = None
    times_reopened: int = 0
    exception_id: int | None = None
    details: dict[str, Any] = {}


class RecommendationItem(Model):
    id: str
    title: str
    severity: SeverityName
    control: str
    unhealthy: int
    healthy: int
    not_applicable: int
    description: str
    remediation: str


class ResourceState(Model):
    asset_id: int
    type: str
    name: str
    where: str
    state: str
    detail: str


class ControlItem(Model):
    id: str
    title: str
    max_score: int
    score: float
    healthy: int
    unhealthy: int


class ScorePoint(Model):
    day: str
    percent: float
    score: float
    max_score: float


class ScoreOut(Model):
    score: float
    max_score: int
    percent: float
    controls: list[ControlItem]
    history: list[ScorePoint]


class AlertItem(Model):
    id: int
    rule: str
    title: str
    severity: SeverityName
    status: Literal["new", "acknowledged", "dismissed"]
    status_reason: str = ""
    status_by: str = ""
    time: dt.datetime
    last_time: dt.datetime
    count: int
    source: str
    tactic: str
    technique: str
    asset: dict[str, Any]
    resource: dict[str, Any]
    evidence: dict[str, Any] = {}
    remediation: str = ""


class AlertChange(Model):
    status: Literal["new", "acknowledged", "dismissed"]
    reason: str = Field("", max_length=2000)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return value.strip()


class UserItem(Model):
    id: int
    name: str
    role: RoleName
    scope: list[str]
    disabled: bool
    created_at: dt.datetime
    last_login: dt.datetime | None


def _scope(values: list[str]) -> list[str]:
    return sorted({parse_selector(v) for v in values})


class UserCreate(Model):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=10, max_length=1000)
    role: RoleName
    scope: list[str] = Field(default_factory=list, max_length=100)

    _check_scope = field_validator("scope")(_scope)


class UserChange(Model):
    role: RoleName | None = None
    scope: list[str] | None = Field(None, max_length=100)
    disabled: bool | None = None
    password: str | None = Field(None, min_length=10, max_length=1000)

    @field_validator("scope")
    @classmethod
    def _check_scope(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _scope(value)


class TokenItem(Model):
    id: int
    name: str
    prefix: str
    role: RoleName
    scope: list[str]
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked: bool


class TokenCreate(Model):
    name: str = Field(min_length=1, max_length=100)
    role: RoleName
    scope: list[str] = Field(default_factory=list, max_length=100)
    expires_in_days: int | None = Field(None, ge=1, le=3650)

    _check_scope = field_validator("scope")(_scope)


class TokenCreated(TokenItem):
    token: str = Field(description="The token itself: shown once, store it now")


class ExceptionItem(Model):
    id: int
    rule: str
    scope_type: Literal["all", "repository", "image"]
    scope_value: str
    reason: str
    author: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    active: bool
    findings: int = 0


class ExceptionCreate(Model):
    rule: str = Field(min_length=1, max_length=300, description="Rule id, CVE or GHSA id")
    scope_type: Literal["all", "repository", "image"] = "all"
    scope_value: str = Field("", max_length=500)
    reason: str = Field(min_length=3, max_length=2000)
    expires_at: dt.datetime | None = None


class ScanItem(Model):
    id: int
    kind: str
    asset: dict[str, Any]
    produced_at: dt.datetime
    received_at: dt.datetime
    tool_version: str
    database: str
    results: int
    principal: str


class IngestReceipt(Model):
    scan: int
    kind: str
    asset: str
    duplicate: bool = False
    new: int = 0
    resolved: int = 0
    reopened: int = 0


class AuditItem(Model):
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


class SettingsModel(Model):
    health_threshold: SeverityName = "high"


class AdvisoryDatabaseStatus(Model):
    path: str
    present: bool
    built_at: str = ""
    age_hours: float | None = None
    advisories: int = 0
    error: str = ""


class StatusOut(Model):
    version: str
    database: str
    advisory_database: AdvisoryDatabaseStatus
    assets: dict[str, int]
    principal: dict[str, Any]
    jobs: dict[str, Any]


JobState = Literal["queued", "running", "done", "failed", "cancelled"]


class RegistryCreate(Model):
    url: str = Field(min_length=8, max_length=500, description="http(s)://host[:port]")
    username: str = Field("", max_length=200)
    password: str = Field("", max_length=4000, description="Stored encrypted, never returned")
    center_url: str = Field(
        "",
        max_length=500,
        description="The center's address as the registry reaches it "
        "(for the notifications block); default: the address this request came to",
    )


class RegistryChange(Model):
    username: str | None = Field(None, max_length=200)
    password: str | None = Field(None, max_length=4000)
    rescan_pushed_days: int | None = Field(None, ge=0, le=3650)
    rescan_pulled_days: int | None = Field(None, ge=0, le=3650)
    rescan_running: bool | None = None
    catalog_minutes: int | None = Field(None, ge=0, le=100_000)


class WatchedRegistry(Model):
    id: int
    name: str
    url: str
    username: str
    has_password: bool
    insecure: bool
    rescan_pushed_days: int
    rescan_pulled_days: int
    rescan_running: bool
    catalog_minutes: int
    created_at: dt.datetime
    created_by: str
    last_event_at: dt.datetime | None
    last_catalog_at: dt.datetime | None
    last_error: str
    images: int = Field(0, description="Manifests known in its repositories")


class RegistryAdded(WatchedRegistry):
    secret: str = Field(description="The notification secret: shown once")
    notifications: str = Field(description="The block to paste into the registry's config.yml")


class NotificationReceipt(Model):
    events: int
    queued: int
    skipped: list[str]


class ScanRequest(Model):
    image: str = Field(
        min_length=1, max_length=500, description="repository[:tag] or repository@digest"
    )


class JobItem(Model):
    id: int
    kind: str
    title: str
    state: JobState
    priority: int
    attempts: int
    max_attempts: int
    error: str
    result: dict[str, Any]
    requested_by: str
    created_at: dt.datetime
    not_before: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    worker: str


ChannelKind = Literal["webhook", "slack", "teams", "email", "syslog"]
NotificationKind = Literal[
    "new_unhealthy_image", "new_critical_finding", "runtime_alert", "score_drop", "job_failure"
]


class ChannelCreate(Model):
    name: str = Field(min_length=1, max_length=100)
    kind: ChannelKind
    url: str = Field("", max_length=2000, description="webhook, Slack or Teams URL")
    secret: str = Field("", max_length=500, description="webhook signing secret")
    host: str = Field("", max_length=300, description="SMTP server or syslog collector")
    port: int | None = Field(None, ge=1, le=65535)
    sender: str = Field("", max_length=300)
    recipients: list[str] = Field(default_factory=list, max_length=50)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = Field("", max_length=200)
    password: str = Field("", max_length=500)
    transport: Literal["udp", "tcp"] = "udp"
    facility: str = Field("local0", max_length=20)
    mode: Literal["immediate", "hourly", "daily"] = "immediate"
    max_per_hour: int = Field(20, ge=1, le=10_000)
    templates: dict[str, str] = Field(default_factory=dict, max_length=10)


class ChannelItem(Model):
    id: int
    name: str
    kind: ChannelKind
    settings: dict[str, Any]
    has_secret: bool
    templates: dict[str, str]
    mode: str
    max_per_hour: int
    enabled: bool
    created_at: dt.datetime
    last_sent_at: dt.datetime | None
    last_error: str


class RuleCreate(Model):
    name: str = Field(min_length=1, max_length=100)
    channel_id: int = Field(ge=1, le=2**31 - 1)
    kinds: list[NotificationKind] = Field(default_factory=list, max_length=5)
    min_severity: SeverityName = "unknown"
    scope: list[str] = Field(default_factory=list, max_length=100)

    _check_scope = field_validator("scope")(_scope)


class RuleItem(Model):
    id: int
    name: str
    channel_id: int
    kinds: list[str]
    min_severity: SeverityName
    scope: list[str]
    enabled: bool


class OutboxItem(Model):
    id: int
    channel_id: int
    rule: str
    kind: str
    dedupe_key: str
    state: Literal["pending", "sending", "sent", "duplicate", "failed"]
    attempts: int
    queued_at: dt.datetime
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None
    error: str


class AdmissionItem(Model):
    id: int
    cluster: str
    uid: str
    time: dt.datetime
    operation: str
    kind: str
    namespace: str
    name: str
    user: str
    mode: str
    allowed: bool
    would_deny: bool
    violations: list[str]
    warnings: list[str]
    errors: list[str]
    ms: float
