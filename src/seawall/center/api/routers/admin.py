"""Users, tokens, settings, the audit trail, scans and the center's status."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlalchemy import func, select

from seawall import __version__
from seawall.center import accounts
from seawall.center.accounts import (
    AccountError,
    BadPassword,
    add_token,
    add_user,
    change_user,
)
from seawall.center.api.deps import DB, AssetId, Id, Owner, Reader, center, now
from seawall.center.api.schemas import (
    AdvisoryDatabaseStatus,
    AuditItem,
    ListOf,
    ScanItem,
    SettingsModel,
    StatusOut,
    TokenCreate,
    TokenCreated,
    TokenItem,
    UserChange,
    UserCreate,
    UserItem,
)
from seawall.center.pages import Sort, paginate
from seawall.center.queries.common import scoped
from seawall.center.security.scope import require_everything
from seawall.center.settings import CenterSettings, change_settings
from seawall.center.settings import load as load_settings
from seawall.center.store.models import Asset, AuditEntry, Scan, Token, User

router = APIRouter(tags=["administration"])


def _user(row: User) -> UserItem:
    return UserItem.model_validate({f: getattr(row, f) for f in UserItem.model_fields})


def _token(row: Token) -> TokenItem:
    return TokenItem.model_validate({f: getattr(row, f) for f in TokenItem.model_fields})


@router.get("/users", response_model=list[UserItem])
def list_users(session: DB, caller: Owner) -> list[UserItem]:
    return [_user(u) for u in accounts.visible_users(session, caller)]


@router.post("/users", response_model=UserItem, status_code=201)
def post_user(session: DB, caller: Owner, body: UserCreate) -> UserItem:
    try:
        user = add_user(session, caller, body.name, body.password, body.role, body.scope, now())
    except AccountError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return _user(user)


@router.patch("/users/{user_id}", response_model=UserItem)
def patch_user(session: DB, caller: Owner, user_id: Id, body: UserChange) -> UserItem:
    try:
        user = change_user(session, caller, user_id, body.model_dump(exclude_none=True))
    except BadPassword as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    except AccountError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return _user(user)


@router.get("/tokens", response_model=list[TokenItem])
def list_tokens(session: DB, caller: Owner) -> list[TokenItem]:
    return [_token(t) for t in accounts.visible_tokens(session, caller)]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def post_token(session: DB, caller: Owner, body: TokenCreate) -> TokenCreated:
    """A new API token; the response carries the token itself, once."""
    expires = dt.timedelta(days=body.expires_in_days) if body.expires_in_days else None
    try:
        row, value = add_token(session, caller, body.name, body.role, body.scope, expires, now())
    except AccountError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return TokenCreated(**_token(row).model_dump(), token=value)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(session: DB, caller: Owner, token_id: Id) -> None:
    accounts.revoke_token(session, caller, token_id)


@router.get("/settings", response_model=SettingsModel)
def get_settings(session: DB, caller: Reader) -> SettingsModel:
    return SettingsModel(health_threshold=load_settings(session).health_threshold)  # type: ignore[arg-type]


@router.put("/settings", response_model=SettingsModel)
def put_settings(session: DB, caller: Owner, body: SettingsModel) -> SettingsModel:
    """Change the health threshold; every asset's health and the score follow at once."""
    change_settings(session, caller, CenterSettings(health_threshold=body.health_threshold), now())
    return body


@router.get("/audit-log", response_model=ListOf[AuditItem])
def audit_log(
    session: DB,
    caller: Owner,
    cursor: Annotated[str | None, Query(min_length=1, max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ListOf[AuditItem]:
    """Every change, newest first (center-wide: an owner whose scope is everything)."""
    require_everything(caller.scope)
    page = paginate(
        session,
        select(AuditEntry),
        AuditEntry.id,
        Sort("at", AuditEntry.at, descending=True, is_time=True),
        cursor,
        limit,
    )
    items = [
        AuditItem.model_validate({f: getattr(r[0], f) for f in AuditItem.model_fields})
        for r in page.items
    ]
    return ListOf[AuditItem](items=items, total=page.total, next=page.next)


@router.get("/scans", response_model=ListOf[ScanItem])
def list_scans(
    session: DB,
    caller: Reader,
    asset: AssetId = None,
    cursor: Annotated[str | None, Query(min_length=1, max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ListOf[ScanItem]:
    statement = scoped(
        select(Scan, Asset).join(Asset, Asset.id == Scan.asset_id), caller.scope, Scan.asset_id
    )
    if asset is not None:
        statement = statement.where(Scan.asset_id == asset)
    page = paginate(
        session,
        statement,
        Scan.id,
        Sort("received_at", Scan.received_at, descending=True, is_time=True),
        cursor,
        limit,
    )
    items = [
        ScanItem(
            id=s.id,
            kind=s.kind,
            asset={"id": a.id, "type": a.type, "name": a.name},
            produced_at=s.produced_at,
            received_at=s.received_at,
            tool_version=s.tool_version,
            database=s.database,
            results=s.results,
            principal=s.principal,
        )
        for s, a in page.items
    ]
    return ListOf[ScanItem](items=items, total=page.total, next=page.next)


def advisory_status(path_text: str) -> AdvisoryDatabaseStatus:
    """Which advisory database the center matches with, and how old it is."""
    from pathlib import Path

    from seawall.errors import SeawallError
    from seawall.vulndb.store import AdvisoryStore

    path = Path(path_text)
    if not path.is_file():
        return AdvisoryDatabaseStatus(
            path=str(path), present=False, error="missing: run `seawall db update` or `db import`"
        )
    try:
        store = AdvisoryStore.open(path)
    except SeawallError as exc:
        return AdvisoryDatabaseStatus(path=str(path), present=True, error=str(exc))
    try:
        described = store.describe()
    finally:
        store.close()
    built = described.get("built_at", "")
    age = None
    try:
        built_time = dt.datetime.fromisoformat(built.replace("Z", "+00:00"))
        age = round((now() - built_time).total_seconds() / 3600, 1)
    except ValueError:
        pass
    return AdvisoryDatabaseStatus(
        path=str(path),
        present=True,
        built_at=built,
        age_hours=age,
        advisories=int(described.get("advisories", "0") or 0),
    )


@router.get("/status", response_model=StatusOut)
def get_status(request: Request, session: DB, caller: Reader) -> StatusOut:
    """Version, databases (which advisory database, and how old), asset counts, jobs."""
    running = center(request)
    counts: dict[str, int] = dict(
        session.execute(
            scoped(
                select(Asset.type, func.count()).where(Asset.gone.is_(False)), caller.scope
            ).group_by(Asset.type)
        ).all()
    )
    worker = running.worker
    return StatusOut(
        version=__version__,
        database=running.engine.url.render_as_string(hide_password=True),
        advisory_database=advisory_status(str(running.config.advisory_db)),
        assets={str(k): int(v) for k, v in counts.items()},
        principal={"name": caller.name, "role": caller.role.label, "scope": caller.scope.as_list()},
        jobs=worker.status() if worker else {"running": False},
    )
