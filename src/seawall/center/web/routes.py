"""The dashboard's routes: sign-in and sign-out here; the pages in ``pages``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from seawall import __version__
from seawall.center.api.deps import SESSION_COOKIE, center
from seawall.center.security import secrets
from seawall.center.security.logins import LoginRefused, sign_in, sign_out
from seawall.center.security.roles import Role
from seawall.center.web import format
from seawall.center.web.auth import (
    LOGIN_CSRF_COOKIE,
    Refused,
    SignInNeeded,
    Viewer,
    check_csrf,
    secure_cookies,
)
from seawall.center.web.render import render

HERE = Path(__file__).parent
router = APIRouter(include_in_schema=False)


def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=HERE / "templates")  # autoescape on for .html
    found.env.globals["version"] = __version__
    found.env.globals["ROLE"] = Role
    format.install(found.env)
    return found


def _safe_next(target: str) -> str:
    """Only paths of this site (no scheme, no host, no //) may be returned to."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    token = secrets.new_secret()
    response = render(
        request, "login.html", {"next": _safe_next(next), "login_csrf": token, "error": ""}
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=600,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request, center(request).config.secure_cookies),
    )
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    name: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    login_csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    running = center(request)
    config = running.config
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    error = ""
    signed = None
    if not login_csrf or not cookie_token or not secrets.same(login_csrf, cookie_token):
        error = "the sign-in form expired: try again"
    else:
        client = request.client.host if request.client else "unknown"
        with running.sessions() as session, session.begin():
            try:
                signed = sign_in(
                    session,
                    name,
                    password,
                    client,
                    dt.datetime.now(dt.UTC),
                    limit=config.login_attempts,
                    lockout=config.login_lockout_seconds,
                    hours=config.session_hours,
                )
            except LoginRefused as exc:  # counted, and committed with the block
                error = str(exc)
    if signed is None:
        token = secrets.new_secret()
        response = render(
            request,
            "login.html",
            {"next": _safe_next(next), "login_csrf": token, "error": error},
            status_code=401,
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            max_age=600,
            httponly=True,
            samesite="strict",
            secure=secure_cookies(request, config.secure_cookies),
        )
        return response
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signed.cookie,
        max_age=int(config.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request, config.secure_cookies),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request, caller: Viewer) -> Response:
    await check_csrf(request, caller)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    with center(request).sessions() as session, session.begin():
        sign_out(session, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def mount(app: FastAPI) -> None:
    """Static files, templates, the sign-in routes, every page and every form."""
    from seawall.center.web import actions, pages

    app.state.templates = templates()
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(router)
    app.include_router(pages.router)
    app.include_router(actions.router)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        if request.headers.get("hx-request"):
            return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
        caller = getattr(request.state, "principal", None)
        return render(
            request,
            "error.html",
            {"caller": caller, "nav": "", "code": exc.status_code, "message": str(exc.detail)},
            status_code=exc.status_code,
        )

    @app.exception_handler(SignInNeeded)
    async def sign_in_first(request: Request, exc: SignInNeeded) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={quote(exc.path)}", status_code=303)
