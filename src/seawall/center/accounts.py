"""Users and API tokens: created from the command line (``seawall admin``, for the first
owner: there is no default password) and from the API by owners."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.center.security import secrets
from seawall.center.security.roles import Role
from seawall.center.security.scope import Scope
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
