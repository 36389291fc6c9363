"""Who is calling and may they: FastAPI dependencies shared by every route.

A request is authenticated by ``Authorization: Bearer TOKEN`` or by the dashboard's session
cookie; requests that change something with a session cookie must also carry the session's
CSRF token (``X-CSRF-Token`` header or ``csrf_token`` form field). Unauthenticated is 401,
a role too low is 403, never a stack trace.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BeforeValidator
from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.center.runtime import Center
from seawall.center.security import secrets
from seawall.center.security.roles import Principal, Role
from seawall.center.security.scope import Scope
from seawall.center.store.models import Session as SessionRow
from seawall.center.store.models import Token, User

API = "/api/v1"
SESSION_COOKIE = "seawall_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_TOUCH = dt.timedelta(minutes=1)  # last_used_at is written at most this often


def center(request: Request) -> Center:
    found: Center = request.app.state.center
    return found


def db(request: Request) -> Iterator[Session]:
    """A session for the request, committed when the route returns normally."""
    with center(request).sessions() as session, session.begin():
        yield session


DB = Annotated[Session, Depends(db)]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def known_query(request: Request) -> None:
    """422 naming a query parameter the route does not take (``?severty=high`` would
    otherwise be ignored, and a filtered list or export silently be everything)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    # Kept per application, by route: its routes live as long as it does. (A process-wide
    # table keyed by id(route) answered for another route once an application was gone
    # and a new route took its address.)
    by_route: dict[int, frozenset[str]] = request.app.state.known_query
    known = by_route.get(id(route))
    if known is None:  # what the route documents (the OpenAPI document is built once)
        paths = request.app.openapi()["paths"]
        # the route as included (its path under /api/v1), or as declared in its router
        path = next(p for p in (route.path_format, API + route.path_format) if p in paths)
        parameters = paths[path][request.method.lower()].get("parameters", [])
        known = frozenset(p["name"] for p in parameters if p.get("in") == "query")
        by_route[id(route)] = known
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": "unknown query parameter",
                    "type": "extra_forbidden",
                }
                for name in unknown
            ]
        )


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


def _from_token(session: Session, value: str) -> Principal:
    token = session.scalar(select(Token).where(Token.hash == secrets.digest(value)))
    moment = now()
    if token is None or token.revoked:
        raise _unauthorized("invalid token")
    if token.expires_at is not None and token.expires_at <= moment:
        raise _unauthorized("token expired")
    if token.last_used_at is None or moment - token.last_used_at > TOKEN_TOUCH:
        token.last_used_at = moment
    return Principal(
        name=f"token:{token.name}",
        role=Role.parse(token.role),
        scope=Scope.of(token.scope),
        token_id=token.id,
    )


def principal_from_cookie(session: Session, cookie: str) -> Principal | None:
    """The signed-in user of a session cookie, or None when it is unknown or expired."""
    row = session.get(SessionRow, secrets.digest(cookie))
    if row is None or row.expires_at <= now():
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    return Principal(
        name=user.name,
        role=Role.parse(user.role),
        scope=Scope.of(user.scope),
        user_id=user.id,
        csrf=row.csrf,
    )


def authenticate(request: Request, session: Session) -> Principal:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorized("use Authorization: Bearer TOKEN")
        return _from_token(session, value.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    found = principal_from_cookie(session, cookie) if cookie else None
    if found is None:
        raise _unauthorized("not signed in")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not secrets.same(sent, found.csrf):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    return found


def principal(request: Request, session: DB) -> Principal:
    found = authenticate(request, session)
    request.state.principal = found
    return found


def require(role: Role) -> Callable[[Principal], Principal]:
    """A dependency: the caller, if their role is at least ``role`` (else 403)."""

    def check(caller: Annotated[Principal, Depends(principal)]) -> Principal:
        if not caller.can(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this needs the {role.label} role or above"
            )
        return caller

    return check


MAX_ID = 2**31 - 1  # row ids are INTEGER columns: larger ones cannot exist
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="The row's id")]
AssetId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def _iso_time(value: object) -> object:
    """Only ISO 8601 text is a time here: pydantic would also take ``-564`` as seconds since
    1970, which the documented ``date-time`` format does not allow."""
    if isinstance(value, str) and value.lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("expected an ISO 8601 date-time, e.g. 2024-05-01T12:00:00Z")
    return value


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """A time without a zone is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


Since = Annotated[
    dt.datetime | None,
    BeforeValidator(_iso_time),
    AfterValidator(_utc),
    Query(description="Only what happened at or after this time (ISO 8601; UTC if no zone)"),
]

Reader = Annotated[Principal, Depends(require(Role.READER))]
Contributor = Annotated[Principal, Depends(require(Role.CONTRIBUTOR))]
Owner = Annotated[Principal, Depends(require(Role.OWNER))]
