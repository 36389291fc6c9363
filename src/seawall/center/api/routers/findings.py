"""Findings and the exceptions that accept some of them as risks."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status

from seawall.center.api.deps import DB, MAX_ID, Contributor, Id, Reader, now
from seawall.center.api.schemas import ExceptionCreate, ExceptionItem, FindingItem, ListOf
from seawall.center.exceptions import (
    ExceptionRefused,
    add_exception,
    list_exceptions,
    remove_exception,
)
from seawall.center.queries import findings
from seawall.center.queries.common import NotFound, severity_levels

router = APIRouter(tags=["findings"])
Cursor = Annotated[str | None, Query(max_length=500)]
Text = Annotated[str, Query(max_length=300)]


@router.get("/findings", response_model=ListOf[FindingItem])
def list_findings(
    session: DB,
    caller: Reader,
    state: Literal["open", "suppressed", "resolved", "passing", "failing", "all"] = "open",
    kind: Annotated[
        list[Literal["vulnerability", "configuration", "policy"]] | None, Query()
    ] = None,
    severity: Annotated[
        str, Query(max_length=60, pattern=r"^[a-zA-Z,]*$", description="e.g. high,critical")
    ] = "",
    rule: Text = "",
    package: Text = "",
    asset: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Findings on this asset")
    ] = None,
    source: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="Findings reported by this image/host/cluster"),
    ] = None,
    q: Text = "",
    sort: Literal["severity", "first_seen", "last_seen", "rule", "package"] = "severity",
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ListOf[FindingItem]:
    try:
        levels = severity_levels(severity)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    page = findings.list_findings(
        session,
        caller.scope,
        state=state,
        kinds=kind or (),
        severities=levels,
        rule=rule,
        package=package,
        asset=asset,
        source=source,
        q=q,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return ListOf[FindingItem].of(page)


@router.get("/findings/{finding_id}", response_model=FindingItem)
def get_finding(session: DB, caller: Reader, finding_id: Id) -> FindingItem:
    found = findings.get_finding(session, caller.scope, finding_id)
    if found is None:
        raise NotFound(f"no finding {finding_id}")
    return found


@router.get("/exceptions", response_model=list[ExceptionItem])
def get_exceptions(session: DB, caller: Reader) -> list[ExceptionItem]:
    return list_exceptions(session, caller)


@router.post("/exceptions", response_model=ExceptionItem, status_code=201)
def post_exception(session: DB, caller: Contributor, body: ExceptionCreate) -> ExceptionItem:
    """Accept findings of a rule (or CVE/GHSA id) as a risk, everywhere, in one repository
    (``registry/repository``) or for one image (a digest), with a reason and an expiry."""
    try:
        return add_exception(session, caller, body, now())
    except ExceptionRefused as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


@router.delete("/exceptions/{exception_id}", status_code=204)
def delete_exception(session: DB, caller: Contributor, exception_id: Id) -> None:
    """Lift an exception: the findings it covered count again."""
    remove_exception(session, caller, exception_id, now())
