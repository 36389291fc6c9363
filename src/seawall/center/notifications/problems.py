"""Problems worth telling someone about, as notifications into the outbox, from the places
that find them: an ingest that turned an image unhealthy, brought new critical findings or
new run-time alerts; a job that failed for good; a secure score that dropped. Only problems:
an image that is (or became) healthy never notifies.

Each notification's ``dedupe_key`` names the problem, not the moment (the image and the set
of critical findings; the alert), so the same problem reported again (a rescan, a resent
alert) is sent once per the channel's window.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.center import assets
from seawall.center.notifications.outbox import emit
from seawall.center.notify import Notification, Resource
from seawall.center.store.models import (
    AlertRow,
    Asset,
    FindingRow,
    JobRow,
    NotificationRuleRow,
    RegistryRow,
)
from seawall.model import Severity

MAX_LISTED = 10


def anyone_listening(session: Session) -> bool:
    """Whether any rule is enabled (else nothing is worth computing)."""
    return session.scalar(
        select(NotificationRuleRow.id).where(NotificationRuleRow.enabled.is_(True)).limit(1)
    ) is not None  # fmt: skip


def resource_of(session: Session, asset: Asset) -> Resource:
    """The asset and where it lives, from its scope tags."""
    where: dict[str, str] = {}
    for tag in sorted(assets.tags_of(session, asset.id)):
        kind, _, value = tag.partition(":")
        if kind == "namespace":
            where["cluster"], _, where["namespace"] = value.partition("/")
        elif kind in ("host", "registry", "cluster"):
            where.setdefault(kind, value)
    return Resource(type=asset.type, name=asset.name, **where)


def after_ingest(
    session: Session,
    source: Asset,
    was_healthy: bool | None,
    new_alerts: list[AlertRow],
    now: dt.datetime,
) -> int:
    """The notifications one ingest calls for; how many outbox rows were written."""
    if not anyone_listening(session):
        return 0
    written = 0
    resource = resource_of(session, source)
    healthy = session.scalar(select(Asset.healthy).where(Asset.id == source.id))
    critical = list(
        session.scalars(
            select(FindingRow)
            .where(FindingRow.source_id == source.id, FindingRow.first_seen == now)
            .where(FindingRow.is_open.is_(True), FindingRow.failing.is_(True))
            .where(FindingRow.exception_id.is_(None))
            .where(FindingRow.severity >= int(Severity.CRITICAL))
            .order_by(FindingRow.rule_id)
        )
    )
    if source.type == "image" and healthy is False and was_healthy is not False:
        written += emit(session, _unhealthy_image(source, resource, now), now)
    if critical:
        written += emit(session, _critical_findings(source, resource, critical, now), now)
    for alert in new_alerts:
        written += emit(session, _alert(alert, resource, now), now)
    return written


def _unhealthy_image(image: Asset, resource: Resource, now: dt.datetime) -> Notification:
    counts = {name: getattr(image, name) for name in ("critical", "high", "medium", "low")}
    worst = next((s for s in ("critical", "high", "medium", "low") if counts[s]), "unknown")
    return Notification(
        kind="new_unhealthy_image",
        severity=Severity[worst.upper()],
        title=f"Image {image.name} is unhealthy",
        summary=", ".join(f"{n} {name}" for name, n in counts.items() if n) or "failing findings",
        resource=resource,
        occurred_at=now,
        dedupe_key=f"unhealthy:{image.key}",
        facts=tuple((name, str(n)) for name, n in counts.items() if n),
    )


def _critical_findings(
    asset: Asset, resource: Resource, findings: list[FindingRow], now: dt.datetime
) -> Notification:
    rules = sorted({f.rule_id for f in findings})
    fingerprint = hashlib.sha256("\n".join(rules).encode()).hexdigest()[:16]
    listed = ", ".join(rules[:MAX_LISTED]) + (" ..." if len(rules) > MAX_LISTED else "")
    return Notification(
        kind="new_critical_finding",
        severity=Severity.CRITICAL,
        title=f"{len(findings)} new critical finding(s) on {asset.name}",
        summary=listed,
        resource=resource,
        occurred_at=now,
        dedupe_key=f"critical:{asset.key}:{fingerprint}",
        facts=tuple(
            (f.rule_id, f"{f.package} {f.version} -> {f.fixed_version or 'no fix yet'}")
            for f in findings[:MAX_LISTED]
        ),
    )


def _alert(alert: AlertRow, resource: Resource, now: dt.datetime) -> Notification:
    facts = [("rule", alert.rule_id), ("tactic", alert.tactic), ("count", str(alert.count))]
    return Notification(
        kind="runtime_alert",
        severity=Severity(alert.severity),
        title=alert.title,
        summary=f"{alert.tactic or 'run-time'} on {resource.name}",
        resource=resource,
        occurred_at=alert.time if alert.time <= now else now,
        dedupe_key=f"alert:{alert.source_id}:{alert.alert_id}",
        facts=tuple((k, v) for k, v in facts if v),
    )


def job_failed(session: Session, job: JobRow, now: dt.datetime) -> int:
    """A job that failed for good (not one that will be retried)."""
    if not anyone_listening(session):
        return 0
    registry_id = job.payload.get("registry")
    registry = ""
    if isinstance(registry_id, int):
        registry = (
            session.scalar(select(RegistryRow.name).where(RegistryRow.id == registry_id)) or ""
        )
    notification = Notification(
        kind="job_failure",
        severity=Severity.MEDIUM,
        title=f"Job failed: {job.title or job.kind}",
        summary=job.error or "no reason given",
        resource=Resource(type="job", name=job.title or job.kind, registry=registry),
        occurred_at=now,
        dedupe_key=f"job:{job.key}",
        facts=(("attempts", str(job.attempts)), ("requested by", job.requested_by)),
    )
    return emit(session, notification, now)


def score_dropped(
    session: Session, scope_name: str, before: float, after: float, now: dt.datetime
) -> int:
    """The secure score fell by at least a point since the day before."""
    if not anyone_listening(session):
        return 0
    notification = Notification(
        kind="score_drop",
        severity=Severity.HIGH if before - after >= 10 else Severity.MEDIUM,
        title=f"Secure score fell to {after:.0f}% (was {before:.0f}%)",
        summary=f"scope: {scope_name}",
        resource=Resource(type="scope", name=scope_name),
        occurred_at=now,
        dedupe_key=f"score:{scope_name}:{now.date().isoformat()}",
    )
    return emit(session, notification, now)
