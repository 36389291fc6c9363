"""Findings and the exceptions that accept some of them as risks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import select

from seawall.center import audit
from seawall.center.api.deps import DB, MAX_ID, Contributor, Id, Reader, now
from seawall.center.api.schemas import ExceptionCreate, ExceptionItem, FindingItem, ListOf
from seawall.center.exceptions import apply_exception, create_exception, lift, list_exceptions
from seawall.center.queries import findings, images
from seawall.center.queries.common import NotFound, scoped, severity_levels
from seawall.center.security.roles import Principal
from seawall.center.store.models import Asset, ExceptionRow, ImageReference

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
    return ListOf[FindingItem](items=page.items, total=page.total, next=page.next)


@router.get("/findings/{finding_id}", response_model=FindingItem)
def get_finding(session: DB, caller: Reader, finding_id: Id) -> FindingItem:
    found = findings.get_finding(session, caller.scope, finding_id)
    if found is None:
        raise NotFound(f"no finding {finding_id}")
    return found


def _visible_exception(session: DB, caller: Principal, scope_type: str, value: str) -> bool:
    """Whether a scoped caller sees what an exception covers: one image it sees, or a
    repository of which it sees an image. Exceptions for everything are center-wide."""
    if caller.scope.everything:
        return True
    if scope_type == "image":
        try:
            images.find_image(session, caller.scope, value)
        except NotFound:
            return False
        return True
    if scope_type == "repository":
        registry, _, repository = value.partition("/")
        named = select(ImageReference.image_id).where(
            ImageReference.registry_host == registry, ImageReference.repository == repository
        )
        return (
            session.scalar(scoped(select(Asset.id).where(Asset.id.in_(named)), caller.scope))
            is not None
        )
    return False


@router.get("/exceptions", response_model=list[ExceptionItem])
def get_exceptions(session: DB, caller: Reader) -> list[ExceptionItem]:
    """The exceptions; a scoped caller sees those for everything and those of what it sees."""
    return [
        item
        for item in list_exceptions(session)
        if item.scope_type == "all"
        or _visible_exception(session, caller, item.scope_type, item.scope_value)
    ]


@router.post("/exceptions", response_model=ExceptionItem, status_code=201)
def post_exception(session: DB, caller: Contributor, body: ExceptionCreate) -> ExceptionItem:
    """Accept findings of a rule (or CVE/GHSA id) as a risk, everywhere, in one repository
    (``registry/repository``) or for one image (a digest), with a reason and an expiry."""
    if body.expires_at is not None and body.expires_at.astimezone(dt.UTC) <= now():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "expires_at is in the past")
    if body.scope_type != "all" and not body.scope_value:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "scope_value names the repository or image"
        )
    if not _visible_exception(session, caller, body.scope_type, body.scope_value.strip()):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "an exception must cover only what your scope shows (an image or a repository "
            "of yours; everything needs an unscoped caller)",
        )
    row = create_exception(session, body, caller.name, now())
    covered = apply_exception(session, row, now())
    audit.record(
        session,
        caller,
        "exception.create",
        f"exception {row.id}",
        rule=row.rule,
        scope=f"{row.scope_type}:{row.scope_value}",
        findings=covered,
    )
    return ExceptionItem.model_validate(
        {
            **{c: getattr(row, c) for c in ExceptionItem.model_fields if c != "findings"},
            "findings": covered,
        }
    )


@router.delete("/exceptions/{exception_id}", status_code=204)
def delete_exception(session: DB, caller: Contributor, exception_id: Id) -> None:
    """Lift an exception: the findings it covered count again."""
    row = session.get(ExceptionRow, exception_id)
    if row is None or not _visible_exception(session, caller, row.scope_type, row.scope_value):
        raise NotFound(f"no active exception {exception_id}")
    reopened = lift(session, exception_id, now())
    audit.record(
        session, caller, "exception.delete", f"exception {exception_id}", findings=reopened
    )
