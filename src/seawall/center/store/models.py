"""The center's tables (SQLAlchemy 2 declarative; Alembic migrates them).

Assets are one table with a type (image, host, container, cluster, namespace, workload,
k8s_resource, registry, repository) and a key that stays the same across scans; typed detail
lives in ``attributes`` (JSON) and a few denormalised counters that the lists sort and filter
by. ``asset_tags`` carries the scope tags (``host:NAME``, ``registry:HOST``, ``cluster:NAME``,
``namespace:CLUSTER/NS``) that a scoped user's lists are filtered through; ``asset_links``
says which container or workload runs which image.

Findings are followed by fingerprint from first seen to resolved (and reopened); ``source``
is the asset whose scan reported them (a host audit reports on the host's containers), so a
new scan resolves exactly what the previous scan of that source found and this one did not.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    column,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone: stored as naive
    UTC and given the zone back on the way out)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# JSONB on PostgreSQL: comparable (rules are updated only when their text changed) and
# compact; JSON text on SQLite.
JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSONType, list[str]: JSONType}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    scope: Mapped[list[str]] = mapped_column(default=list)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]
    last_login: Mapped[dt.datetime | None]


class Token(Base):
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists to tell tokens apart
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    scope: Mapped[list[str]] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Session(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class LoginAttempt(Base):
    """Failed logins per user name and per client address, for the rate limit."""

    __tablename__ = "login_attempts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime]
    locked_until: Mapped[dt.datetime | None]


class Asset(Base):
    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("type", "key"),
        Index("ix_assets_type_name", "type", "name"),
        Index("ix_assets_type_healthy", "type", "healthy"),
        Index("ix_assets_parent", "parent_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    first_seen: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
    last_scanned: Mapped[dt.datetime | None]
    gone: Mapped[bool] = mapped_column(Boolean, default=False)  # not in the latest report
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # open, unsuppressed failing findings by severity (for sorting and counts)
    critical: Mapped[int] = mapped_column(Integer, default=0)
    high: Mapped[int] = mapped_column(Integer, default=0)
    medium: Mapped[int] = mapped_column(Integer, default=0)
    low: Mapped[int] = mapped_column(Integer, default=0)
    unknown: Mapped[int] = mapped_column(Integer, default=0)
    # None: never assessed; True: nothing at or above the health threshold
    healthy: Mapped[bool | None] = mapped_column(Boolean)
    running: Mapped[bool] = mapped_column(Boolean, default=False)  # images: runs somewhere

    @property
    def open_total(self) -> int:
        return self.critical + self.high + self.medium + self.low + self.unknown


class AssetTag(Base):
    __tablename__ = "asset_tags"
    __table_args__ = (Index("ix_asset_tags_tag", "tag", "asset_id"),)

    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(400), primary_key=True)


class AssetLink(Base):
    """``source`` (a container or workload) runs the image ``reference``; ``target`` is that
    image once the center knows it (a later ingest of the image fills it in)."""

    __tablename__ = "asset_links"
    __table_args__ = (
        Index("ix_asset_links_target", "target_id"),
        Index("ix_asset_links_reference", "reference"),
    )

    source_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    reference: Mapped[str] = mapped_column(String(500), primary_key=True)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="SET NULL"))


class ImageDigest(Base):
    """Every digest an image is known by (config and manifest digests), for lookups."""

    __tablename__ = "image_digests"

    digest: Mapped[str] = mapped_column(String(80), primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)


class ImageReference(Base):
    """A name an image was seen under (``registry/repository:tag``)."""

    __tablename__ = "image_references"
    __table_args__ = (
        UniqueConstraint("image_id", "reference"),
        Index("ix_image_references_reference", "reference"),
        Index("ix_image_references_repository", "registry", "repository"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(500))
    registry_host: Mapped[str] = mapped_column("registry", String(300), default="")
    repository: Mapped[str] = mapped_column(String(300), default="")
    tag: Mapped[str] = mapped_column(String(200), default="")
    last_seen: Mapped[dt.datetime]


class StoredInventory(Base):
    """An image's inventory (zstd-compressed JSON), so findings are recomputed without it."""

    __tablename__ = "inventories"

    image_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    packages: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[dt.datetime]
    matched_with: Mapped[str] = mapped_column(String(40), default="")  # database built_at
    # what that match read from the database (seawall.vulndb.footprint); None: not known,
    # so the next database matches it whatever changed
    footprint: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # digest of the findings its last scan reported (fingerprint, status, severity, fix):
    # a re-match reporting the same digest changes nothing (None: not known)
    results_digest: Mapped[str | None] = mapped_column(String(32), default=None)


class AdvisoryState(Base):
    """What matches with one advisory database depend on (seawall.vulndb.footprint), kept
    while stored inventories are matched with it: the next database is compared with it."""

    __tablename__ = "advisory_states"

    built_at: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[dt.datetime]
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RuleRow(Base):
    """A rule or advisory once, by namespaced id, with its text (``data``)."""

    __tablename__ = "rules"

    id: Mapped[str] = mapped_column(String(300), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[int] = mapped_column(SmallInteger)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    digest: Mapped[str] = mapped_column(String(32), default="")  # of data: skip unchanged


class FindingRow(Base):
    __tablename__ = "findings"
    # Each filter the lists offer is an index whose first column is what is filtered on,
    # then is_open and the default sort (severity, id), so that a page of open findings is
    # read in order from one index and its total counted on it; SQLite plans without
    # statistics (a center never runs ANALYZE), and these keep it off the is_open index,
    # which matches most of the table.
    __table_args__ = (
        Index("ix_findings_source", "source_id", "is_open", "severity", "id"),
        Index("ix_findings_asset", "asset_id", "is_open", "severity", "id"),
        Index("ix_findings_open_severity", "is_open", "severity", "id"),
        Index("ix_findings_open_first_seen", "is_open", "first_seen", "id"),
        Index("ix_findings_rule", "rule_id", "is_open", "severity", "id"),
        Index("ix_findings_package", "package", "is_open", "severity", "id"),
        Index("ix_findings_kind", "kind", "is_open", "severity", "id"),
        # the totals of the closed states (resolved, passing), counted on the index alone
        Index("ix_findings_closed", "failing", "is_open", "resolved_at"),
        # search (q) by the start of a package's or a resource's name
        Index("ix_findings_resource", "resource_name", "is_open", "severity", "id"),
        # the findings an exception covers (its count in the list of exceptions, lifting it)
        Index("ix_findings_exception", "exception_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32), unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # vulnerability, configuration, policy
    rule_id: Mapped[str] = mapped_column(String(300))
    severity: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(20))  # the engine's latest status
    # failing now and not suppressed by an exception: what counts against health
    is_open: Mapped[bool] = mapped_column(Boolean)
    failing: Mapped[bool] = mapped_column(Boolean)
    exception_id: Mapped[int | None] = mapped_column(
        ForeignKey("exceptions.id", ondelete="SET NULL")
    )
    first_seen: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None]
    reopened_at: Mapped[dt.datetime | None]
    times_reopened: Mapped[int] = mapped_column(Integer, default=0)
    resource_kind: Mapped[str] = mapped_column(String(100), default="")
    resource_name: Mapped[str] = mapped_column(String(300), default="")
    resource_namespace: Mapped[str] = mapped_column(String(300), default="")
    resource_id: Mapped[str] = mapped_column(String(300), default="")
    package: Mapped[str] = mapped_column(String(300), default="")
    version: Mapped[str] = mapped_column(String(200), default="")
    fixed_version: Mapped[str] = mapped_column(String(200), default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(Text, default="")
    remediation: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # layer, path, purl, ...


class ExceptionRow(Base):
    """A finding accepted as a risk: which rule (or any alias of it), where, why, until."""

    __tablename__ = "exceptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(300))  # rule id, or an alias such as a CVE id
    scope_type: Mapped[str] = mapped_column(String(20))  # all, repository, image
    scope_value: Mapped[str] = mapped_column(String(500), default="")
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("source_id", "alert_id"),
        Index("ix_alerts_time", "time"),
        Index("ix_alerts_status_time", "status", "time"),
        Index("ix_alerts_severity_time", "severity", "time"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(100))  # the engine's id (stable per window)
    source_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[int] = mapped_column(SmallInteger)
    time: Mapped[dt.datetime]
    last_time: Mapped[dt.datetime]
    count: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str] = mapped_column(String(30), default="")
    tactic: Mapped[str] = mapped_column(String(100), default="")
    technique: Mapped[str] = mapped_column(String(50), default="")
    status: Mapped[str] = mapped_column(String(20), default="new")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_by: Mapped[str] = mapped_column(String(100), default="")
    status_at: Mapped[dt.datetime | None]
    resource: Mapped[dict[str, Any]] = mapped_column(default=dict)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    remediation: Mapped[str] = mapped_column(Text, default="")


class Scan(Base):
    """One ingested envelope: what ran, when, by whom, with which database."""

    __tablename__ = "scans"
    __table_args__ = (Index("ix_scans_asset", "asset_id", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    produced_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime]
    tool_version: Mapped[str] = mapped_column(String(40))
    database: Mapped[str] = mapped_column(String(40), default="")  # built_at
    results: Mapped[int] = mapped_column(Integer, default=0)
    principal: Mapped[str] = mapped_column(String(120), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class RecommendationState(Base):
    """Where one resource stands on one recommendation (and so in its control)."""

    __tablename__ = "recommendation_states"
    __table_args__ = (
        Index("ix_recommendation_states_rec", "recommendation", "state"),
        Index("ix_recommendation_states_control", "control", "asset_id", "state"),
        Index("ix_recommendation_states_asset", "asset_id"),
    )

    recommendation: Mapped[str] = mapped_column(String(60), primary_key=True)
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True
    )
    control: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(20))  # healthy, unhealthy, not_applicable
    detail: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime]


class ScoreHistory(Base):
    """The secure score of a scope on a day (the empty scope key is everything)."""

    __tablename__ = "score_history"

    scope_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    percent: Mapped[float] = mapped_column(Float)


class AuditEntry(Base):
    """Every change a user makes, who made it and when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(300), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RegistryRow(Base):
    """A registry the center watches: where it is, how to log in (the password encrypted
    with the center's secret key), the hash of the secret its notifications must carry, and
    which of its images are rescanned."""

    __tablename__ = "registries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)  # host[:port], as in references
    url: Mapped[str] = mapped_column(String(500))
    username: Mapped[str] = mapped_column(String(200), default="")
    password: Mapped[bytes] = mapped_column(LargeBinary, default=b"")  # Fernet token, or empty
    secret_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the notification secret
    insecure: Mapped[bool] = mapped_column(Boolean, default=False)  # plain HTTP / unverified TLS
    rescan_pushed_days: Mapped[int] = mapped_column(Integer, default=90)
    rescan_pulled_days: Mapped[int] = mapped_column(Integer, default=30)
    rescan_running: Mapped[bool] = mapped_column(Boolean, default=True)
    catalog_minutes: Mapped[int] = mapped_column(Integer, default=60)  # 0: never list
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(120), default="")
    last_event_at: Mapped[dt.datetime | None]
    last_catalog_at: Mapped[dt.datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")


class RegistryImage(Base):
    """One manifest in one repository of a watched registry, as its events and listings tell
    it: when it was last pushed, pulled and scanned, and whether it was deleted. Event times
    only move forward, so duplicate and out-of-order events change nothing."""

    __tablename__ = "registry_images"
    __table_args__ = (Index("ix_registry_images_pulled", "registry_id", "pulled_at"),)

    registry_id: Mapped[int] = mapped_column(
        ForeignKey("registries.id", ondelete="CASCADE"), primary_key=True
    )
    repository: Mapped[str] = mapped_column(String(300), primary_key=True)
    digest: Mapped[str] = mapped_column(String(80), primary_key=True)
    tags: Mapped[list[str]] = mapped_column(default=list)
    media_type: Mapped[str] = mapped_column(String(120), default="")
    pushed_at: Mapped[dt.datetime | None]
    pulled_at: Mapped[dt.datetime | None]
    deleted_at: Mapped[dt.datetime | None]
    scanned_at: Mapped[dt.datetime | None]
    scanned_with: Mapped[str] = mapped_column(String(64), default="")  # analyzer fingerprint


class JobRow(Base):
    """One unit of background work (scan an image, list a registry, ...), from queued to
    done, failed or cancelled. The row is the truth about the job: workers claim it with a
    lease, extend the lease while they work, and write their result in the transaction that
    marks it done, so a result is stored once however often the job ran."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_due", "state", "priority", "not_before", "id"),
        Index("ix_jobs_created", "created_at"),
        # one active job per key: a second push of the same digest joins the first
        Index(
            "ux_jobs_active_key",
            "key",
            unique=True,
            sqlite_where=column("state").in_(("queued", "running")),
            postgresql_where=column("state").in_(("queued", "running")),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(400))
    title: Mapped[str] = mapped_column(String(500), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[int] = mapped_column(SmallInteger)  # lower runs first
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=4)
    not_before: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    worker: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    requested_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    dispatched_at: Mapped[dt.datetime | None]  # handed to the task queue (scale-out only)


class NotificationChannelRow(Base):
    """Where notifications go: a webhook, Slack or Teams URL, an SMTP server, a syslog
    collector. ``settings`` holds what is not secret; ``secret`` (the webhook's signing key,
    the SMTP password) is sealed with the center's key and never returned."""

    __tablename__ = "notification_channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # webhook, slack, teams, email, syslog
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secret: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    templates: Mapped[dict[str, Any]] = mapped_column(default=dict)  # name -> template text
    mode: Mapped[str] = mapped_column(String(20), default="immediate")  # hourly, daily
    max_per_hour: Mapped[int] = mapped_column(Integer, default=20)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    last_sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")


class NotificationRuleRow(Base):
    """Which problems go to a channel: kinds, a minimum severity, a resource scope."""

    __tablename__ = "notification_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE"), index=True
    )
    kinds: Mapped[list[str]] = mapped_column(default=list)  # empty: every kind
    min_severity: Mapped[int] = mapped_column(SmallInteger, default=0)
    scope: Mapped[list[str]] = mapped_column(default=list)  # empty: everything
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class OutboxRow(Base):
    """A notification on its way to one channel, written in the transaction that found the
    problem, so a restart loses nothing: pending until sent (or retired as a duplicate, or
    failed after its attempts), claimed by one deliverer at a time."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_sent", "channel_id", "state", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE")
    )
    rule: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(30))
    dedupe_key: Mapped[str] = mapped_column(String(300))
    notification: Mapped[bytes] = mapped_column(LargeBinary)  # msgspec JSON
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[dt.datetime]
    next_attempt_at: Mapped[dt.datetime]
    claimed_by: Mapped[str] = mapped_column(String(200), default="")
    claimed_until: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    error: Mapped[str] = mapped_column(Text, default="")


class AdmissionRow(Base):
    """One admission review a cluster's webhook decided (or, in audit mode, would have
    denied), as the webhook reported it; one row per review uid and cluster."""

    __tablename__ = "admission_decisions"
    __table_args__ = (
        UniqueConstraint("cluster_id", "uid"),
        Index("ix_admission_time", "cluster_id", "time"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(100))
    time: Mapped[dt.datetime]
    operation: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(100))
    namespace: Mapped[str] = mapped_column(String(300), default="")
    name: Mapped[str] = mapped_column(String(300), default="")
    user: Mapped[str] = mapped_column(String(300), default="")
    mode: Mapped[str] = mapped_column(String(20), default="")
    allowed: Mapped[bool] = mapped_column(Boolean)
    would_deny: Mapped[bool] = mapped_column(Boolean)
    violations: Mapped[list[str]] = mapped_column(default=list)
    warnings: Mapped[list[str]] = mapped_column(default=list)
    errors: Mapped[list[str]] = mapped_column(default=list)
    ms: Mapped[float] = mapped_column(Float, default=0.0)
