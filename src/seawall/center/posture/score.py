"""The secure score, as Defender computes it, within a scope.

A control's score is its max points x healthy / (healthy + unhealthy) resources, where a
resource is unhealthy when it is unhealthy on any recommendation of the control; the overall
score is the sum of the control scores over the sum of the max points of the controls that
have resources. One grouped query over the recommendation states, so it is current right
after every ingest. Each computation also records the day's value for the scope, and a daily
job records it for every scope in use, so trends exist from the first day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from seawall.center.posture.catalog import CONTROLS
from seawall.center.scoping import within
from seawall.center.security.scope import Scope
from seawall.center.store.models import RecommendationState, ScoreHistory


@dataclass(frozen=True)
class ControlScore:
    id: str
    title: str
    max_score: int
    healthy: int
    unhealthy: int

    @property
    def assessed(self) -> int:
        return self.healthy + self.unhealthy

    @property
    def score(self) -> float:
        return self.max_score * self.healthy / self.assessed if self.assessed else 0.0


@dataclass(frozen=True)
class SecureScore:
    controls: tuple[ControlScore, ...]

    @property
    def max_score(self) -> int:
        return sum(c.max_score for c in self.controls if c.assessed)

    @property
    def score(self) -> float:
        return sum(c.score for c in self.controls)

    @property
    def percent(self) -> float:
        return round(100 * self.score / self.max_score, 1) if self.max_score else 0.0


def compute(session: Session, scope: Scope) -> SecureScore:
    per_resource = (
        select(
            RecommendationState.control,
            RecommendationState.asset_id,
            func.max(case((RecommendationState.state == "unhealthy", 1), else_=0)).label("bad"),
        )
        .where(
            RecommendationState.state != "not_applicable",
            within(scope, RecommendationState.asset_id),
        )
        .group_by(RecommendationState.control, RecommendationState.asset_id)
        .subquery()
    )
    rows = session.execute(
        select(per_resource.c.control, func.count(), func.sum(per_resource.c.bad)).group_by(
            per_resource.c.control
        )
    )
    counts = {control: (int(total), int(bad or 0)) for control, total, bad in rows}
    return SecureScore(
        tuple(
            ControlScore(
                id=c.id,
                title=c.title,
                max_score=c.max_score,
                healthy=counts.get(c.id, (0, 0))[0] - counts.get(c.id, (0, 0))[1],
                unhealthy=counts.get(c.id, (0, 0))[1],
            )
            for c in CONTROLS
        )
    )


def record(session: Session, scope: Scope, score: SecureScore, day: dt.date) -> None:
    """Today's value of ``scope``'s score (the latest computation of the day wins)."""
    key = (scope.key, day.isoformat())
    row = session.get(ScoreHistory, key)
    if row is None:
        session.add(
            ScoreHistory(
                scope_key=key[0],
                day=key[1],
                score=score.score,
                max_score=score.max_score,
                percent=score.percent,
            )
        )
    else:
        row.score, row.max_score, row.percent = score.score, score.max_score, score.percent


def history(session: Session, scope: Scope, days: int = 30) -> list[ScoreHistory]:
    since = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)).isoformat()
    return list(
        session.scalars(
            select(ScoreHistory)
            .where(ScoreHistory.scope_key == scope.key, ScoreHistory.day >= since)
            .order_by(ScoreHistory.day)
        )
    )
