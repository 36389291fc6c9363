"""Totals across the inventory for the overview: resources by type and health, open
findings by severity, and the scope selectors in use."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seawall.center.posture.evaluate import SOURCE_TYPES  # their counters hold every finding
from seawall.center.queries.common import scoped
from seawall.center.security.scope import Scope
from seawall.center.store.models import Asset, AssetTag

TYPES = ("image", "host", "container", "cluster", "node", "workload")


def health_by_type(session: Session, scope: Scope) -> dict[str, dict[str, int]]:
    """``{type: {"healthy": n, "unhealthy": n, "none": n}}`` for every type of :data:`TYPES`
    (``none``: not assessed yet); one grouped query."""
    rows = session.execute(
        scoped(
            select(Asset.type, Asset.healthy, func.count()).where(
                Asset.type.in_(TYPES), Asset.gone.is_(False)
            ),
            scope,
        ).group_by(Asset.type, Asset.healthy)
    )
    found: dict[str, dict[str, int]] = {t: {"healthy": 0, "unhealthy": 0, "none": 0} for t in TYPES}
    for type_, healthy, count in rows:
        state = "none" if healthy is None else "healthy" if healthy else "unhealthy"
        found[type_][state] += int(count)
    return found


def open_by_severity(session: Session, scope: Scope) -> dict[str, int]:
    """Open findings by severity: the sums of the counters of the assets scans are about
    (images, hosts, clusters, nodes)."""
    columns = (Asset.critical, Asset.high, Asset.medium, Asset.low, Asset.unknown)
    row = session.execute(
        scoped(
            select(*(func.coalesce(func.sum(c), 0) for c in columns)).where(
                Asset.type.in_(SOURCE_TYPES), Asset.gone.is_(False)
            ),
            scope,
        )
    ).one()
    return {
        name: int(value)
        for name, value in zip(("critical", "high", "medium", "low", "unknown"), row, strict=True)
    }


def scope_selectors(session: Session, limit: int = 300) -> list[tuple[str, int]]:
    """The scope selectors assets carry (``host:NAME``, ``registry:HOST``, ...) with how many
    assets each covers, most used first: what a user's or token's scope can be made of."""
    rows = session.execute(
        select(AssetTag.tag, func.count())
        .group_by(AssetTag.tag)
        .order_by(func.count().desc(), AssetTag.tag)
        .limit(limit)
    )
    return [(tag, int(count)) for tag, count in rows]
