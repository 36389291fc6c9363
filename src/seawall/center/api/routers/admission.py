"""What the clusters' admission webhooks decided (``seawall admission serve --upload``):
denials, and in audit mode what would have been denied."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from seawall.center.api.deps import DB, Reader
from seawall.center.api.schemas import AdmissionItem
from seawall.center.queries.common import scoped
from seawall.center.store.models import AdmissionRow, Asset

router = APIRouter(tags=["admission"])


@router.get("/admission-decisions", response_model=list[AdmissionItem])
def list_decisions(
    session: DB,
    caller: Reader,
    cluster: Annotated[str | None, Query(min_length=1, max_length=300)] = None,
    verdict: Annotated[
        Literal["denied", "allowed"] | None,
        Query(description="denied: reviews denied, or that audit mode would deny"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AdmissionItem]:
    """The newest decisions first, in the caller's scope."""
    statement = scoped(
        select(AdmissionRow, Asset.name).join(Asset, Asset.id == AdmissionRow.cluster_id),
        caller.scope,
        AdmissionRow.cluster_id,
    )
    if cluster:
        statement = statement.where(Asset.name == cluster)
    if verdict is not None:
        statement = statement.where(AdmissionRow.would_deny.is_(verdict == "denied"))
    rows = session.execute(statement.order_by(AdmissionRow.time.desc(), AdmissionRow.id.desc())
                           .limit(limit))  # fmt: skip
    return [
        AdmissionItem.model_validate(
            {
                **{f: getattr(row, f) for f in AdmissionItem.model_fields if f != "cluster"},
                "cluster": name,
            }
        )
        for row, name in rows
    ]
