"""Recommendations with their unhealthy, healthy and not-applicable resources."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seawall.center.api.schemas import RecommendationItem, ResourceState
from seawall.center.pages import Page, Sort, paginate
from seawall.center.posture.catalog import BY_ID, RECOMMENDATIONS
from seawall.center.queries.common import NotFound, scoped, where_label
from seawall.center.security.scope import Scope
from seawall.center.store.models import Asset, RecommendationState
from seawall.model import Severity

ORDER = ("unhealthy", "healthy", "not_applicable")


def list_recommendations(
    session: Session, scope: Scope, *, state: str = ""
) -> list[RecommendationItem]:
    """Every recommendation with its counts, those with unhealthy resources first (by
    severity), then the rest."""
    rows = session.execute(
        scoped(
            select(RecommendationState.recommendation, RecommendationState.state, func.count()),
            scope,
            RecommendationState.asset_id,
        ).group_by(RecommendationState.recommendation, RecommendationState.state)
    )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for rec_id, rec_state, count in rows:
        counts[rec_id][rec_state] = count
    items = [
        RecommendationItem(
            id=rec.id,
            title=rec.title,
            severity=rec.severity.name.lower(),  # type: ignore[arg-type]
            control=rec.control,
            unhealthy=counts[rec.id].get("unhealthy", 0),
            healthy=counts[rec.id].get("healthy", 0),
            not_applicable=counts[rec.id].get("not_applicable", 0),
            description=rec.description,
            remediation=rec.remediation,
        )
        for rec in RECOMMENDATIONS
    ]
    if state == "unhealthy":
        items = [i for i in items if i.unhealthy]
    elif state == "healthy":
        items = [i for i in items if not i.unhealthy and i.healthy]
    return sorted(
        items, key=lambda i: (i.unhealthy == 0, -int(Severity.parse(i.severity)), -i.unhealthy)
    )


def recommendation(session: Session, scope: Scope, rec_id: str) -> RecommendationItem:
    for item in list_recommendations(session, scope):
        if item.id == rec_id:
            return item
    raise NotFound(f"no recommendation {rec_id}")


def resources(
    session: Session,
    scope: Scope,
    rec_id: str,
    *,
    state: str = "unhealthy",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ResourceState]:
    if rec_id not in BY_ID:
        raise NotFound(f"no recommendation {rec_id}")
    statement = scoped(
        select(RecommendationState, Asset)
        .join(Asset, Asset.id == RecommendationState.asset_id)
        .where(RecommendationState.recommendation == rec_id),
        scope,
        RecommendationState.asset_id,
    )
    if state:
        statement = statement.where(RecommendationState.state == state)
    page = paginate(session, statement, Asset.id, Sort("name", Asset.name), cursor, limit)
    return Page(
        [
            ResourceState(
                asset_id=asset.id,
                type=asset.type,
                name=asset.name,
                where=where_label(session, asset),
                state=rec_state.state,
                detail=rec_state.detail,
            )
            for rec_state, asset in page.items
        ],
        page.total,
        page.next,
    )
