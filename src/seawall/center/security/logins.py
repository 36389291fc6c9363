"""Signing in to the dashboard: password check, rate limit, session cookie.

Failed attempts are counted per user name and per client address in the database (so every
worker process shares them); after ``limit`` failures within the window, that name or
address is locked out for ``lockout`` seconds, whatever the password. A wrong name costs the
same argon2 verification as a wrong password, so timing does not tell which names exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from seawall.center.security import secrets
from seawall.center.store.models import LoginAttempt, User
from seawall.center.store.models import Session as SessionRow

_DUMMY_HASH = secrets.hash_password("not a real password, only for timing")


class LoginRefused(Exception):
    """Wrong name or password, a disabled user, or too many attempts."""


@dataclass(frozen=True)
class SignedIn:
    user: User
    cookie: str  # the session cookie's value (only its hash is stored)
    csrf: str
    expires_at: dt.datetime


def _attempt(session: Session, key: str, now: dt.datetime) -> LoginAttempt:
    row = session.get(LoginAttempt, key)
    if row is None:
        row = LoginAttempt(key=key, failures=0, window_start=now, locked_until=None)
        session.add(row)
    return row


def sign_in(
    session: Session,
    name: str,
    password: str,
    client: str,
    now: dt.datetime,
    *,
    limit: int,
    lockout: float,
    hours: float,
) -> SignedIn:
    keys = [f"user:{name[:100]}", f"addr:{client[:100]}"]
    attempts = [_attempt(session, key, now) for key in keys]
    if any(a.locked_until is not None and a.locked_until > now for a in attempts):
        raise LoginRefused("too many failed sign-ins: try again later")
    user = session.scalar(select(User).where(User.name == name))
    valid = secrets.verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not valid or user.disabled:
        window = dt.timedelta(seconds=lockout)
        for attempt in attempts:
            if now - attempt.window_start > window:
                attempt.failures, attempt.window_start = 0, now
            attempt.failures += 1
            if attempt.failures >= limit:
                attempt.locked_until = now + window
        raise LoginRefused("wrong user name or password")
    for attempt in attempts:
        session.delete(attempt)
    cookie, csrf = secrets.new_secret(), secrets.new_secret()
    expires = now + dt.timedelta(hours=hours)
    session.add(
        SessionRow(
            id=secrets.digest(cookie),
            user_id=user.id,
            csrf=csrf,
            created_at=now,
            expires_at=expires,
        )
    )
    user.last_login = now
    return SignedIn(user=user, cookie=cookie, csrf=csrf, expires_at=expires)


def sign_out(session: Session, cookie: str) -> None:
    session.execute(delete(SessionRow).where(SessionRow.id == secrets.digest(cookie)))


def forget_expired(session: Session, now: dt.datetime) -> None:
    """Expired sessions and old failed-login counters (the daily job)."""
    session.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.window_start <= now - dt.timedelta(days=1))
    )
