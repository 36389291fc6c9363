"""Users, tokens, settings, the audit trail, scans and the center's status."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlalchemy import func, select

from seawall import __version__
from seawall.center import audit
from seawall.center.accounts import AccountError, create_token, create_user
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
from seawall.center.queries.common import NotFound, scoped
from seawall.center.security import secrets
from seawall.center.security.roles import Principal
from seawall.center.settings import CenterSettings
from seawall.center.settings import load as load_settings
from seawall.center.settings import save as save_settings
from seawall.center.store.models import Asset, AuditEntry, Scan, Session, Token, User

router = APIRouter(tags=["administration"])


def _covers(caller: Principal, selectors: list[str]) -> bool:
    """Whether ``selectors`` (a user's or token's scope) lie within the caller's scope: a
    scoped owner hands out and manages only what it sees itself."""
    if caller.scope.everything:
        return True
    return bool(selectors) and set(selectors) <= caller.scope.selectors


def _within(caller: Principal, selectors: list[str]) -> None:
    if not _covers(caller, selectors):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the scope must lie within your own scope")


def _center_wide(caller: Principal) -> None:
    if not caller.scope.everything:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "this needs an owner whose scope is everything"
        )


def _user(row: User) -> UserItem:
    return UserItem.model_validate({f: getattr(row, f) for f in UserItem.model_fields})


def _token(row: Token) -> TokenItem:
    return TokenItem.model_validate({f: getattr(row, f) for f in TokenItem.model_fields})


@router.get("/users", response_model=list[UserItem])
def list_users(session: DB, caller: Owner) -> list[UserItem]:
    rows = session.scalars(select(User).order_by(User.name))
    return [_user(u) for u in rows if _covers(caller, u.scope)]


@router.post("/users", response_model=UserItem, status_code=201)
def post_user(session: DB, caller: Owner, body: UserCreate) -> UserItem:
    _within(caller, body.scope)
    try:
        user = create_user(session, body.name, body.password, body.role, body.scope, now())
    except AccountError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    audit.record(
        session, caller, "user.create", f"user {user.name}", role=user.role, scope=user.scope
    )
    return _user(user)


@router.patch("/users/{user_id}", response_model=UserItem)
def patch_user(session: DB, caller: Owner, user_id: Id, body: UserChange) -> UserItem:
    user = session.get(User, user_id)
    if user is None or not _covers(caller, user.scope):
        raise NotFound(f"no user {user_id}")
    changes = body.model_dump(exclude_none=True)
    if "scope" in changes:
        _within(caller, changes["scope"])
    if user.id == caller.user_id and (
        changes.get("disabled") or changes.get("role", "owner") != "owner"
    ):
        raise HTTPException(status.HTTP_409_CONFLICT, "owners cannot demote or disable themselves")
    if "password" in changes:
        try:
            user.password_hash = secrets.hash_password(changes.pop("password"))
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
        changes["password"] = "changed"  # noqa: S105 (the audit trail notes the change, not the value)
        session.query(Session).filter(Session.user_id == user.id).delete()
    for field in ("role", "scope", "disabled"):
        if field in changes:
            setattr(user, field, changes[field])
    if user.disabled:
        session.query(Session).filter(Session.user_id == user.id).delete()
    audit.record(session, caller, "user.change", f"user {user.name}", **changes)
    return _user(user)


@router.get("/tokens", response_model=list[TokenItem])
def list_tokens(session: DB, caller: Owner) -> list[TokenItem]:
    rows = session.scalars(select(Token).order_by(Token.id.desc()))
    return [_token(t) for t in rows if _covers(caller, t.scope)]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def post_token(session: DB, caller: Owner, body: TokenCreate) -> TokenCreated:
    """A new API token; the response carries the token itself, once."""
    _within(caller, body.scope)
    expires = dt.timedelta(days=body.expires_in_days) if body.expires_in_days else None
    try:
        row, value = create_token(
            session, body.name, body.role, body.scope, expires, caller.name, now()
        )
    except AccountError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    audit.record(
        session,
        caller,
        "token.create",
        f"token {row.name}",
        role=row.role,
        scope=row.scope,
        prefix=row.prefix,
    )
    return TokenCreated(**_token(row).model_dump(), token=value)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(session: DB, caller: Owner, token_id: Id) -> None:
    row = session.get(Token, token_id)
    if row is None or not _covers(caller, row.scope):
        raise NotFound(f"no token {token_id}")
    row.revoked = True
    audit.record(session, caller, "token.revoke", f"token {row.name}", prefix=row.prefix)


@router.get("/settings", response_model=SettingsModel)
def get_settings(session: DB, caller: Reader) -> SettingsModel:
    return SettingsModel(health_threshold=load_settings(session).health_threshold)  # type: ignore[arg-type]


@router.put("/settings", response_model=SettingsModel)
def put_settings(session: DB, caller: Owner, body: SettingsModel) -> SettingsModel:
    """Change the health threshold; every asset's health and the score follow at once
    (center-wide: an owner whose scope is everything)."""
    _center_wide(caller)
    before = load_settings(session)
    save_settings(session, CenterSettings(health_threshold=body.health_threshold))
    if before.health_threshold != body.health_threshold:
        from seawall.center.exceptions import settle

        every = set(session.scalars(select(Asset.id).where(Asset.gone.is_(False))))
        settle(session, every, now())
    audit.record(
        session, caller, "settings.change", "center", health_threshold=body.health_threshold
    )
    return body


@router.get("/audit-log", response_model=ListOf[AuditItem])
def audit_log(
    session: DB,
    caller: Owner,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ListOf[AuditItem]:
    """Every change, newest first (center-wide: an owner whose scope is everything)."""
    _center_wide(caller)
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
    cursor: Annotated[str | None, Query(max_length=500)] = None,
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
