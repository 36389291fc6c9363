"""Run-time alerts: the timeline, one alert, and the counts per day and severity the
overview charts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seawall.center.api.schemas import AlertItem
from seawall.center.pages import Page, Sort, paginate
from seawall.center.queries.common import SEVERITY_NAMES, scoped
from seawall.center.security.scope import Scope
from seawall.center.store.models import AlertRow, Asset

STATUSES = ("new", "acknowledged", "dismissed")
SORTS = {
    "time": Sort("time", AlertRow.time, descending=True, is_time=True),
    "last_time": Sort("last_time", AlertRow.last_time, descending=True, is_time=True),
    "severity": Sort("severity", AlertRow.severity, descending=True),
}


def item(session: Session, row: AlertRow, owner: Asset | None = None) -> AlertItem:
    owner = owner or session.get(Asset, row.asset_id)
    return AlertItem(
        id=row.id,
        rule=row.rule_id,
        title=row.title,
        severity=SEVERITY_NAMES[row.severity],  # type: ignore[arg-type]
        status=row.status,  # type: ignore[arg-type]
        status_reason=row.status_reason,
        status_by=row.status_by,
        time=row.time,
        last_time=row.last_time,
        count=row.count,
        source=row.source,
        tactic=row.tactic,
        technique=row.technique,
        asset={
            "id": row.asset_id,
            "type": owner.type if owner else "",
            "name": owner.name if owner else "",
        },
        resource=row.resource,
        evidence=row.evidence,
        remediation=row.remediation,
    )


def list_alerts(
    session: Session,
    scope: Scope,
    *,
    status: str = "",
    severities: list[int] | None = None,
    since: dt.datetime | None = None,
    rule: str = "",
    tactic: str = "",
    sort: str = "time",
    cursor: str | None = None,
    limit: int = 50,
    count: bool = True,
) -> Page[AlertItem]:
    statement = scoped(select(AlertRow), scope, AlertRow.asset_id)
    if status:
        statement = statement.where(AlertRow.status.in_(status.split(",")))
    if severities:
        statement = statement.where(AlertRow.severity.in_(severities))
    if since is not None:
        statement = statement.where(AlertRow.time >= since)
    if rule:
        statement = statement.where(AlertRow.rule_id == rule)
    if tactic:
        statement = statement.where(AlertRow.tactic == tactic)
    page = paginate(session, statement, AlertRow.id, SORTS[sort], cursor, limit, count=count)
    rows = [row[0] for row in page.items]
    owners = (
        {
            a.id: a
            for a in session.scalars(select(Asset).where(Asset.id.in_({r.asset_id for r in rows})))
        }
        if rows
        else {}
    )
    return Page([item(session, r, owners.get(r.asset_id)) for r in rows], page.total, page.next)


def get_alert(session: Session, scope: Scope, alert_id: int) -> AlertRow | None:
    row: AlertRow | None = session.scalar(
        scoped(select(AlertRow), scope, AlertRow.asset_id).where(AlertRow.id == alert_id)
    )
    return row


def per_day(session: Session, scope: Scope, days: int = 14) -> dict[str, dict[str, int]]:
    """``{day: {severity name: alerts}}`` for the last ``days`` days (days without alerts
    included, oldest first)."""
    today = dt.datetime.now(dt.UTC).date()
    start = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), dt.UTC)
    day = func.date(AlertRow.time)
    rows = session.execute(
        scoped(
            select(day, AlertRow.severity, func.count()).where(AlertRow.time >= start),
            scope,
            AlertRow.asset_id,
        ).group_by(day, AlertRow.severity)
    )
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for when, severity, count in rows:
        found[str(when)[:10]][SEVERITY_NAMES[severity]] = count
    return {
        (today - dt.timedelta(days=offset)).isoformat(): found.get(
            (today - dt.timedelta(days=offset)).isoformat(), {}
        )
        for offset in range(days - 1, -1, -1)
    }


def open_by_severity(session: Session, scope: Scope) -> dict[str, int]:
    rows = session.execute(
        scoped(
            select(AlertRow.severity, func.count()).where(AlertRow.status != "dismissed"),
            scope,
            AlertRow.asset_id,
        ).group_by(AlertRow.severity)
    )
    return {SEVERITY_NAMES[severity]: count for severity, count in rows}


def by_status(session: Session, scope: Scope) -> dict[str, int]:
    """How many alerts are new, acknowledged and dismissed (one grouped query)."""
    rows = session.execute(
        scoped(select(AlertRow.status, func.count()), scope, AlertRow.asset_id).group_by(
            AlertRow.status
        )
    )
    found = dict.fromkeys(STATUSES, 0)
    for status, count in rows:
        found[status] = int(count)
    return found
