"""The dashboard's session: who is signed in, and the CSRF check of its forms.

Pages need a signed-in user (else a redirect to the sign-in page). Forms and htmx requests
that change something carry the session's CSRF token (a hidden ``csrf_token`` field, or the
``X-CSRF-Token`` header htmx sends from the page's ``hx-headers``). The sign-in form itself
is protected by a double-submit token in a short-lived cookie.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from seawall.center.api.deps import CSRF_HEADER, SESSION_COOKIE, db, principal_from_cookie
from seawall.center.security import secrets
from seawall.center.security.roles import Principal, Role

LOGIN_CSRF_COOKIE = "seawall_login"


class Refused(HTTPException):
    """A page or form the caller may not use, or that does not exist: answered with an HTML
    page (htmx requests: the message alone), not the API's JSON."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(status_code, detail)


class SignInNeeded(Exception):
    """No valid session: the page answers with a redirect to /login."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def viewer(request: Request, session: Annotated[Session, Depends(db)]) -> Principal:
    cookie = request.cookies.get(SESSION_COOKIE)
    found = principal_from_cookie(session, cookie) if cookie else None
    if found is None:
        raise SignInNeeded(request.url.path)
    request.state.principal = found
    return found


Viewer = Annotated[Principal, Depends(viewer)]


async def check_csrf(request: Request, caller: Principal) -> None:
    """403 unless the request carries the session's CSRF token."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        form = await request.form()
        sent = str(form.get("csrf_token", ""))
    if not sent or not secrets.same(sent, caller.csrf):
        raise Refused(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")


def need(caller: Principal, role: Role) -> None:
    if not caller.can(role):
        raise Refused(status.HTTP_403_FORBIDDEN, f"this needs the {role.label} role")


def secure_cookies(request: Request, configured: bool | None) -> bool:
    """Cookies are Secure behind TLS (or when configured so)."""
    if configured is not None:
        return configured
    return request.url.scheme == "https"  # uvicorn applies X-Forwarded-Proto of trusted proxies
