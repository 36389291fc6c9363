"""Users and API tokens: created from the command line (``seawall admin``, for the first
owner: there is no default password) and from the API by owners."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from seawall.center import audit
from seawall.center.queries.common import NotFound
from seawall.center.security import secrets
from seawall.center.security.roles import Principal, Role
from seawall.center.security.scope import OutsideScope, Scope, covers
from seawall.center.store.models import Session as SessionRow
from seawall.center.store.models import Token, User


class AccountError(ValueError):
    """A name taken, a weak password, an unknown role or scope."""


def create_user(
    session: Session, name: str, password: str, role: str, scope: list[str], now: dt.datetime
) -> User:
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise AccountError(f"user {name!r} exists already")
    try:
        role_value = Role.parse(role)
        selectors = Scope.of(scope).as_list()
        password_hash = secrets.hash_password(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    user = User(
        name=name,
        password_hash=password_hash,
        role=role_value.label,
        scope=selectors,
        disabled=False,
        created_at=now,
        last_login=None,
    )
    session.add(user)
    session.flush()
    return user


def create_token(
    session: Session,
    name: str,
    role: str,
    scope: list[str],
    expires_in: dt.timedelta | None,
    created_by: str,
    now: dt.datetime,
) -> tuple[Token, str]:
    """A new token row and the token itself (shown once; only its hash is stored)."""
    try:
        role_value = Role.parse(role)
        selectors = Scope.of(scope).as_list()
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    value = secrets.new_token()
    token = Token(
        name=name,
        prefix=value[:10],
        hash=secrets.digest(value),
        role=role_value.label,
        scope=selectors,
        created_by=created_by,
        created_at=now,
        expires_at=now + expires_in if expires_in else None,
        last_used_at=None,
        revoked=False,
    )
    session.add(token)
    session.flush()
    return token, value


def parse_duration(text: str) -> dt.timedelta:
    """``90d``, ``12h``, ``30m`` -> a timedelta; ValueError otherwise."""
    units = {"d": "days", "h": "hours", "m": "minutes", "w": "weeks"}
    number, unit = text[:-1], text[-1:].lower()
    if unit not in units or not number.isdigit() or int(number) < 1:
        raise ValueError(f"invalid duration {text!r} (e.g. 90d, 12h, 2w)")
    return dt.timedelta(**{units[unit]: int(number)})


# What owners do from the API and the dashboard alike: each change checked and recorded in
# the audit trail in one place.


def _within(by: Principal, selectors: list[str]) -> None:
    if not covers(by.scope, selectors):
        raise OutsideScope("the scope must lie within your own scope")


def visible_users(session: Session, by: Principal) -> list[User]:
    """The users whose scope lies within ``by``'s."""
    rows = session.scalars(select(User).order_by(User.name))
    return [u for u in rows if covers(by.scope, u.scope)]


def visible_tokens(session: Session, by: Principal) -> list[Token]:
    rows = session.scalars(select(Token).order_by(Token.id.desc()))
    return [t for t in rows if covers(by.scope, t.scope)]


class NotAllowed(AccountError):
    """A change an owner may not make (demoting or disabling themselves)."""


class BadPassword(AccountError):
    """A password the center does not accept."""


def add_user(
    session: Session,
    by: Principal,
    name: str,
    password: str,
    role: str,
    scope: list[str],
    now: dt.datetime,
) -> User:
    _within(by, scope)
    user = create_user(session, name, password, role, scope, now)
    audit.record(session, by, "user.create", f"user {user.name}", role=user.role, scope=user.scope)
    return user


def change_user(session: Session, by: Principal, user_id: int, changes: dict[str, Any]) -> User:
    """Apply ``changes`` (``role``, ``scope``, ``disabled``, ``password``) to a user; a new
    password or a disabled account ends the user's sessions."""
    user = session.get(User, user_id)
    if user is None or not covers(by.scope, user.scope):
        raise NotFound(f"no user {user_id}")
    changes = {k: v for k, v in changes.items() if v is not None}
    if "scope" in changes:
        _within(by, changes["scope"])
    if user.id == by.user_id and (
        changes.get("disabled") or changes.get("role", "owner") != "owner"
    ):
        raise NotAllowed("owners cannot demote or disable themselves")
    if "role" in changes:
        try:
            changes["role"] = Role.parse(changes["role"]).label
        except ValueError as exc:
            raise AccountError(str(exc)) from None
    if "scope" in changes:
        try:
            changes["scope"] = Scope.of(changes["scope"]).as_list()
        except ValueError as exc:
            raise AccountError(str(exc)) from None
    if "password" in changes:
        try:
            user.password_hash = secrets.hash_password(changes.pop("password"))
        except ValueError as exc:
            raise BadPassword(str(exc)) from None
        changes["password"] = "changed"  # noqa: S105 (the audit trail notes the change, not the value)
        session.execute(delete(SessionRow).where(SessionRow.user_id == user.id))
    for field in ("role", "scope", "disabled"):
        if field in changes:
            setattr(user, field, changes[field])
    if user.disabled:
        session.execute(delete(SessionRow).where(SessionRow.user_id == user.id))
    audit.record(session, by, "user.change", f"user {user.name}", **changes)
    return user


def add_token(
    session: Session,
    by: Principal,
    name: str,
    role: str,
    scope: list[str],
    expires_in: dt.timedelta | None,
    now: dt.datetime,
) -> tuple[Token, str]:
    """A new token (and its value, to be shown once), recorded in the audit trail."""
    _within(by, scope)
    row, value = create_token(session, name, role, scope, expires_in, by.name, now)
    audit.record(
        session,
        by,
        "token.create",
        f"token {row.name}",
        role=row.role,
        scope=row.scope,
        prefix=row.prefix,
    )
    return row, value


def revoke_token(session: Session, by: Principal, token_id: int) -> Token:
    row = session.get(Token, token_id)
    if row is None or not covers(by.scope, row.scope):
        raise NotFound(f"no token {token_id}")
    row.revoked = True
    audit.record(session, by, "token.revoke", f"token {row.name}", prefix=row.prefix)
    return row
