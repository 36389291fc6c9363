"""The dashboard's forms: every change a page offers, posted with the session's CSRF token.

Each action checks the token (:func:`~seawall.center.web.auth.check_csrf`) and the role
(:func:`~seawall.center.web.auth.need`), validates the form with the API's own request
models, and calls the service the API calls (accounts, exceptions, alert triage, settings),
which records the change in the audit trail. The change is committed before the answer
(post, redirect, get: a reload never posts again; htmx follows the redirect and swaps the
part of the page it targets). A form that does not validate answers 422 with its page and
the message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from seawall.center import accounts, triage
from seawall.center.api.deps import center, now
from seawall.center.api.schemas import (
    AlertChange,
    ExceptionCreate,
    SettingsModel,
    TokenCreate,
    UserChange,
    UserCreate,
)
from seawall.center.exceptions import ExceptionRefused, add_exception, remove_exception
from seawall.center.queries import alerts
from seawall.center.queries.common import NotFound
from seawall.center.security.roles import Principal, Role
from seawall.center.security.scope import OutsideScope
from seawall.center.settings import CenterSettings, change_settings
from seawall.center.web.auth import Refused, Viewer, check_csrf, need
from seawall.center.web.pages import alert_context, page, settings_context

router = APIRouter(include_in_schema=False)
M = TypeVar("M", bound=BaseModel)
Work = Callable[[Session, FormData], Response]
OnError = Callable[[Session, str], Response]


class FormError(ValueError):
    """What is wrong with the form, for the person who sent it."""


def validated(model: type[M], values: dict[str, Any]) -> M:
    """``values`` as the API's request model; FormError naming the field otherwise."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()) if not isinstance(p, int))
        raise FormError(f"{field}: {first.get('msg', 'invalid')}" if field else "invalid") from None


def selectors(text: str) -> list[str]:
    """A scope typed as ``host:web-01, registry:ghcr.io`` (commas, spaces or lines)."""
    return [s for s in text.replace(",", " ").split() if s]


def form_text(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


async def act(
    request: Request, caller: Principal, role: Role, work: Work, on_error: OnError
) -> Response:
    """Check the token and the role, then run ``work`` in a transaction committed before
    the answer; a FormError rolls it back and answers ``on_error``'s page with 422."""
    await check_csrf(request, caller)
    need(caller, role)
    form = await request.form()
    factory = center(request).sessions

    def run() -> Response:
        try:
            with factory() as session, session.begin():
                return work(session, form)
        except FormError as exc:
            with factory() as session, session.begin():
                answer = on_error(session, str(exc))
                answer.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
                return answer
        except NotFound as exc:
            raise Refused(status.HTTP_404_NOT_FOUND, str(exc)) from None
        except OutsideScope as exc:
            raise Refused(status.HTTP_403_FORBIDDEN, str(exc)) from None

    return await run_in_threadpool(run)


def back(url: str) -> Response:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


@router.post("/alerts/{alert_id}/status")
async def alert_status(request: Request, caller: Viewer, alert_id: int) -> Response:
    """Acknowledge, dismiss (with a reason) or reopen an alert."""

    def work(session: Session, form: FormData) -> Response:
        change = validated(
            AlertChange,
            {"status": form_text(form, "status", 20), "reason": form_text(form, "reason")},
        )
        row = alerts.get_alert(session, caller.scope, alert_id)
        if row is None:
            raise NotFound(f"no alert {alert_id}")
        try:
            triage.change_status(session, caller, row, change.status, change.reason, now())
        except triage.TriageError as exc:
            raise FormError(str(exc)) from None
        return back(f"/alerts/{alert_id}")

    def on_error(session: Session, message: str) -> Response:
        context = alert_context(session, caller, alert_id)
        return page(request, caller, "alert.html", "alerts", error=message, **context)

    return await act(request, caller, Role.CONTRIBUTOR, work, on_error)


@router.post("/exceptions")
async def exception_create(request: Request, caller: Viewer) -> Response:
    """Accept a finding's rule as a risk (everywhere, in a repository or for an image)."""

    def work(session: Session, form: FormData) -> Response:
        days = form_text(form, "expires_in_days", 5)
        expires = None
        if days:
            if not days.isdigit() or not 1 <= int(days) <= 3650:
                raise FormError("expires_in_days: a number of days from 1 to 3650")
            expires = now() + dt.timedelta(days=int(days))
        body = validated(
            ExceptionCreate,
            {
                "rule": form_text(form, "rule", 300),
                "scope_type": form_text(form, "scope_type", 20) or "all",
                "scope_value": form_text(form, "scope_value", 500),
                "reason": form_text(form, "reason").strip(),
                "expires_at": expires,
            },
        )
        try:
            add_exception(session, caller, body, now())
        except ExceptionRefused as exc:
            raise FormError(str(exc)) from None
        return back("/exceptions")

    def on_error(session: Session, message: str) -> Response:
        from seawall.center.exceptions import list_exceptions

        return page(
            request,
            caller,
            "exceptions.html",
            "findings",
            exceptions=list_exceptions(session, caller),
            error=message,
        )

    return await act(request, caller, Role.CONTRIBUTOR, work, on_error)


@router.post("/exceptions/{exception_id}/lift")
async def exception_lift(request: Request, caller: Viewer, exception_id: int) -> Response:
    def work(session: Session, form: FormData) -> Response:
        remove_exception(session, caller, exception_id, now())
        return back("/exceptions")

    def on_error(session: Session, message: str) -> Response:  # pragma: no cover
        raise Refused(status.HTTP_422_UNPROCESSABLE_CONTENT, message)

    return await act(request, caller, Role.CONTRIBUTOR, work, on_error)


@router.post("/settings/channels")
async def channel_add(request: Request, caller: Viewer) -> Response:
    """A notification channel, checked as the API checks it (it could deliver)."""
    from seawall.center.api.routers.notifications import post_channel
    from seawall.center.api.schemas import ChannelCreate

    def work(session: Session, form: FormData) -> Response:
        port = form_text(form, "port", 5)
        body = validated(
            ChannelCreate,
            {
                "name": form_text(form, "name", 100).strip(),
                "kind": form_text(form, "kind", 20),
                "url": form_text(form, "url", 2000).strip(),
                "secret": form_text(form, "secret", 500),
                "host": form_text(form, "host", 300).strip(),
                "port": int(port) if port.isdigit() else None,
                "sender": form_text(form, "sender", 300).strip(),
                "recipients": selectors(form_text(form, "recipients")),
                "security": form_text(form, "security", 20) or "starttls",
                "username": form_text(form, "username", 200).strip(),
                "password": form_text(form, "password", 500),
                "mode": form_text(form, "mode", 20) or "immediate",
            },
        )
        try:
            post_channel(request, session, caller, body)
        except HTTPException as exc:
            raise FormError(str(exc.detail)) from None
        return back("/settings#notifications")

    return await act(request, caller, Role.OWNER, work, _settings_error(request, caller))


@router.post("/settings/rules")
async def rule_add(request: Request, caller: Viewer) -> Response:
    """Route problems of some kinds, at or above a severity, in a scope, to a channel."""
    from seawall.center.api.routers.notifications import post_rule
    from seawall.center.api.schemas import RuleCreate

    def work(session: Session, form: FormData) -> Response:
        channel = form_text(form, "channel_id", 10)
        body = validated(
            RuleCreate,
            {
                "name": form_text(form, "name", 100).strip(),
                "channel_id": int(channel) if channel.isdigit() else 0,
                "kinds": [k for k in form.getlist("kinds") if isinstance(k, str)][:5],
                "min_severity": form_text(form, "min_severity", 20) or "unknown",
                "scope": selectors(form_text(form, "scope")),
            },
        )
        try:
            post_rule(session, caller, body)
        except HTTPException as exc:
            raise FormError(str(exc.detail)) from None
        return back("/settings#notifications")

    return await act(request, caller, Role.OWNER, work, _settings_error(request, caller))


@router.post("/jobs/{job_id}/cancel")
async def job_cancel(request: Request, caller: Viewer, job_id: int) -> Response:
    """Cancel a queued or running job (a running one stops at its next heartbeat)."""
    from seawall.center.api.routers.jobs import cancel_job

    def work(session: Session, form: FormData) -> Response:
        try:
            cancel_job(session, caller, job_id)
        except HTTPException as exc:
            raise NotFound(str(exc.detail)) from None
        return back("/jobs")

    def on_error(session: Session, message: str) -> Response:  # pragma: no cover
        raise Refused(status.HTTP_422_UNPROCESSABLE_CONTENT, message)

    return await act(request, caller, Role.CONTRIBUTOR, work, on_error)


def _settings_error(request: Request, caller: Principal) -> OnError:
    def on_error(session: Session, message: str) -> Response:
        return page(
            request,
            caller,
            "settings.html",
            "settings",
            done="",
            error=message,
            new_token=None,
            **settings_context(session, caller, request),
        )

    return on_error


@router.post("/settings/users")
async def user_create(request: Request, caller: Viewer) -> Response:
    def work(session: Session, form: FormData) -> Response:
        body = validated(
            UserCreate,
            {
                "name": form_text(form, "name", 100).strip(),
                "password": form_text(form, "password", 1000),
                "role": form_text(form, "role", 20),
                "scope": selectors(form_text(form, "scope")),
            },
        )
        try:
            accounts.add_user(
                session, caller, body.name, body.password, body.role, body.scope, now()
            )
        except accounts.AccountError as exc:
            raise FormError(str(exc)) from None
        return back("/settings?done=user-created#users")

    return await act(request, caller, Role.OWNER, work, _settings_error(request, caller))


@router.post("/settings/users/{user_id}")
async def user_change(request: Request, caller: Viewer, user_id: int) -> Response:
    def work(session: Session, form: FormData) -> Response:
        change = validated(
            UserChange,
            {
                "role": form_text(form, "role", 20) or None,
                "scope": selectors(form_text(form, "scope")),
                "disabled": form.get("disabled") == "on",
                "password": form_text(form, "password", 1000) or None,
            },
        )
        try:
            accounts.change_user(session, caller, user_id, change.model_dump(exclude_none=True))
        except accounts.AccountError as exc:
            raise FormError(str(exc)) from None
        return back("/settings?done=user-changed#users")

    return await act(request, caller, Role.OWNER, work, _settings_error(request, caller))


@router.post("/settings/tokens")
async def token_create(request: Request, caller: Viewer) -> Response:
    """A new API token: the page shows its value this once (never stored in clear)."""

    def work(session: Session, form: FormData) -> Response:
        days = form_text(form, "expires_in_days", 5)
        body = validated(
            TokenCreate,
            {
                "name": form_text(form, "name", 100).strip(),
                "role": form_text(form, "role", 20),
                "scope": selectors(form_text(form, "scope")),
                "expires_in_days": int(days) if days.isdigit() else None,
            },
        )
        expires = dt.timedelta(days=body.expires_in_days) if body.expires_in_days else None
        try:
            row, value = accounts.add_token(
                session, caller, body.name, body.role, body.scope, expires, now()
            )
        except accounts.AccountError as exc:
            raise FormError(str(exc)) from None
        answer = page(
            request,
            caller,
            "settings.html",
            "settings",
            done="",
            error="",
            new_token={"name": row.name, "value": value},
            **settings_context(session, caller, request),
        )
        answer.headers["Cache-Control"] = "no-store"
        return answer

    return await act(request, caller, Role.OWNER, work, _settings_error(request, caller))


@router.post("/settings/registries")
async def registry_watch(request: Request, caller: Viewer) -> Response:
    """Watch a registry: the page shows the ``notifications:`` block (with its secret) this
    once."""
    from seawall.center.registries.connector import (
        RegistryProblem,
        add_registry,
        notifications_block,
    )
    from seawall.center.security.scope import require_everything

    def work(session: Session, form: FormData) -> Response:
        require_everything(caller.scope)
        vault = center(request).vault
        try:
            added = add_registry(
                session,
                vault,
                url=form_text(form, "url", 500).strip(),
                username=form_text(form, "username", 200).strip(),
                password=form_text(form, "password", 4000),
                by=caller.name,
                now=now(),
            )
        except RegistryProblem as exc:
            raise FormError(str(exc)) from None
        center_url = form_text(form, "center_url", 500).strip() or str(request.base_url)
        context = settings_context(session, caller, request)
        context["new_registry"] = {
            "name": added.row.name,
            "block": notifications_block(center_url, added.row, added.secret),
        }
        answer = page(
            request, caller, "settings.html", "settings", done="", error="", new_token=None,
            **context,
        )  # fmt: skip
        answer.headers["Cache-Control"] = "no-store"
        return answer

    return await act(request, caller, Role.OWNER, work, _settings_error(request, caller))


@router.post("/settings/tokens/{token_id}/revoke")
async def token_revoke(request: Request, caller: Viewer, token_id: int) -> Response:
    def work(session: Session, form: FormData) -> Response:
        accounts.revoke_token(session, caller, token_id)
        return back("/settings?done=token-revoked#tokens")

    return await act(request, caller, Role.OWNER, work, _settings_error(request, caller))


@router.post("/settings/threshold")
async def threshold(request: Request, caller: Viewer) -> Response:
    def work(session: Session, form: FormData) -> Response:
        body = validated(
            SettingsModel, {"health_threshold": form_text(form, "health_threshold", 20)}
        )
        change_settings(
            session, caller, CenterSettings(health_threshold=body.health_threshold), now()
        )
        return back("/settings?done=threshold#threshold")

    return await act(request, caller, Role.OWNER, work, _settings_error(request, caller))
