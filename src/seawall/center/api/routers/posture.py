"""Recommendations, the secure score and alerts: what to fix first, and what is happening."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status

from seawall.center import triage
from seawall.center.api.deps import DB, Contributor, Id, Reader, Since, now
from seawall.center.api.schemas import (
    AlertChange,
    AlertItem,
    ControlItem,
    ListOf,
    RecommendationItem,
    ResourceState,
    ScoreOut,
    ScorePoint,
)
from seawall.center.posture import score
from seawall.center.queries import alerts, recommendations
from seawall.center.queries.common import NotFound, severity_levels

router = APIRouter(tags=["posture"])
Cursor = Annotated[str | None, Query(max_length=500)]


@router.get("/recommendations", response_model=list[RecommendationItem])
def list_recommendations(
    session: DB, caller: Reader, state: Literal["", "unhealthy", "healthy"] = ""
) -> list[RecommendationItem]:
    """Every recommendation with its unhealthy, healthy and not-applicable resources."""
    return recommendations.list_recommendations(session, caller.scope, state=state)


@router.get("/recommendations/{rec_id}", response_model=RecommendationItem)
def get_recommendation(session: DB, caller: Reader, rec_id: str) -> RecommendationItem:
    return recommendations.recommendation(session, caller.scope, rec_id)


@router.get("/recommendations/{rec_id}/resources", response_model=ListOf[ResourceState])
def recommendation_resources(
    session: DB,
    caller: Reader,
    rec_id: str,
    state: Literal["unhealthy", "healthy", "not_applicable", ""] = "unhealthy",
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ListOf[ResourceState]:
    page = recommendations.resources(
        session, caller.scope, rec_id, state=state, cursor=cursor, limit=limit
    )
    return ListOf[ResourceState].of(page)


def current_score(session: DB, caller: Reader, days: int = 30) -> ScoreOut:
    """The score within the caller's scope; today's value is recorded for the trend."""
    computed = score.compute(session, caller.scope)
    score.record(session, caller.scope, computed, dt.datetime.now(dt.UTC).date())
    return ScoreOut(
        score=round(computed.score, 2),
        max_score=computed.max_score,
        percent=computed.percent,
        controls=[
            ControlItem(
                id=c.id,
                title=c.title,
                max_score=c.max_score,
                score=round(c.score, 2),
                healthy=c.healthy,
                unhealthy=c.unhealthy,
            )
            for c in computed.controls
        ],
        history=[
            ScorePoint(day=h.day, percent=h.percent, score=h.score, max_score=h.max_score)
            for h in score.history(session, caller.scope, days)
        ],
    )


@router.get("/score", response_model=ScoreOut)
def get_score(
    session: DB, caller: Reader, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> ScoreOut:
    """The secure score: per control, max points x healthy / (healthy + unhealthy)."""
    return current_score(session, caller, days)


@router.get("/alerts", response_model=ListOf[AlertItem])
def list_alerts(
    session: DB,
    caller: Reader,
    status_: Annotated[
        str, Query(alias="status", max_length=40, pattern=r"^((new|acknowledged|dismissed),?)*$")
    ] = "",
    severity: Annotated[str, Query(max_length=60, pattern=r"^[a-zA-Z,]*$")] = "",
    since: Since = None,
    rule: Annotated[str, Query(max_length=300)] = "",
    tactic: Annotated[str, Query(max_length=100)] = "",
    sort: Literal["time", "last_time", "severity"] = "time",
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ListOf[AlertItem]:
    try:
        levels = severity_levels(severity)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    page = alerts.list_alerts(
        session,
        caller.scope,
        status=status_,
        severities=levels,
        since=since,
        rule=rule,
        tactic=tactic,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return ListOf[AlertItem].of(page)


@router.get("/alerts/{alert_id}", response_model=AlertItem)
def get_alert(session: DB, caller: Reader, alert_id: Id) -> AlertItem:
    row = alerts.get_alert(session, caller.scope, alert_id)
    if row is None:
        raise NotFound(f"no alert {alert_id}")
    return alerts.item(session, row)


@router.patch("/alerts/{alert_id}", response_model=AlertItem)
def change_alert(session: DB, caller: Contributor, alert_id: Id, change: AlertChange) -> AlertItem:
    """Acknowledge an alert, or dismiss it with a reason (or set it back to new)."""
    row = alerts.get_alert(session, caller.scope, alert_id)
    if row is None:
        raise NotFound(f"no alert {alert_id}")
    try:
        triage.change_status(session, caller, row, change.status, change.reason, now())
    except triage.TriageError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return alerts.item(session, row)
