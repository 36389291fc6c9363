"""Who may call what: every route of the application (API and dashboard, enumerated from
``app.routes``, so a new route cannot escape) against anonymous callers, tokens of each role
(one of them scoped), and signed-in users of each role; the answer is of the class the
table below expects for the route. A route missing from the table fails the test.

Also: expired, revoked and garbage tokens are 401; a session cookie without the CSRF token
cannot change anything; a disabled user's session ends.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import update
from starlette.routing import Mount

from seawall.center.accounts import create_token
from seawall.center.store.models import User
from seawall.contract import encode
from tests.center.conftest import PASSWORD, Center, both_backends
from tests.center.world import JSON, sign_in
from tests.support import envelopes
from tests.support.envelopes import DEMO_CONFIG

PUBLIC, PAGE, READER, CONTRIBUTOR, OWNER = "public", "page", "reader", "contributor", "owner"
PAGE_CONTRIBUTOR, PAGE_OWNER = "page:contributor", "page:owner"  # dashboard, with a role
RANK = {READER: 1, CONTRIBUTOR: 2, OWNER: 3}
_names = itertools.count()


def _unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


@dataclass(frozen=True)
class Call:
    """Who may call a route, and a request to make of it."""

    needs: str
    path: str = ""  # the URL, when it differs from the route's path
    body: Callable[[], dict[str, Any]] | None = None
    content: Callable[[], bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _user() -> dict[str, Any]:
    return {"name": _unique("user"), "password": PASSWORD, "role": "reader"}


def _exception() -> dict[str, Any]:
    return {"rule": "CVE-2026-0001", "reason": "accepted for the matrix test"}


def _login_form() -> dict[str, Any]:
    return {"name": "nobody", "password": "wrong"}


API = "/api/v1"
TABLE: dict[str, Call] = {
    # documents and health: public
    f"GET {API}/openapi.json": Call(PUBLIC),
    "GET /healthz": Call(PUBLIC),
    "MOUNT /static": Call(PUBLIC, path="/static/app.css"),
    # ingest
    f"POST {API}/ingest": Call(
        CONTRIBUTOR, content=lambda: encode(envelopes.host_audit()), headers=JSON
    ),
    # inventory
    f"GET {API}/images": Call(READER),
    f"GET {API}/images/{{digest}}": Call(READER, path=f"{API}/images/{DEMO_CONFIG}"),
    f"GET {API}/images/{{digest}}/findings": Call(
        READER, path=f"{API}/images/{DEMO_CONFIG}/findings"
    ),
    f"GET {API}/images/{{digest}}/sbom": Call(READER, path=f"{API}/images/{DEMO_CONFIG}/sbom"),
    f"GET {API}/hosts": Call(READER),
    f"GET {API}/hosts/{{host_id}}": Call(READER, path=f"{API}/hosts/1"),
    f"GET {API}/clusters": Call(READER),
    f"GET {API}/clusters/{{cluster_id}}": Call(READER, path=f"{API}/clusters/1"),
    f"GET {API}/nodes": Call(READER),
    f"GET {API}/nodes/{{node_id}}": Call(READER, path=f"{API}/nodes/1"),
    f"GET {API}/workloads": Call(READER),
    # findings and exceptions
    f"GET {API}/findings": Call(READER),
    f"GET {API}/findings/{{finding_id}}": Call(READER, path=f"{API}/findings/1"),
    f"GET {API}/exceptions": Call(READER),
    f"POST {API}/exceptions": Call(CONTRIBUTOR, body=_exception),
    f"DELETE {API}/exceptions/{{exception_id}}": Call(CONTRIBUTOR, path=f"{API}/exceptions/999999"),
    # posture
    f"GET {API}/recommendations": Call(READER),
    f"GET {API}/recommendations/{{rec_id}}": Call(
        READER, path=f"{API}/recommendations/running-vulnerable-images"
    ),
    f"GET {API}/recommendations/{{rec_id}}/resources": Call(
        READER, path=f"{API}/recommendations/running-vulnerable-images/resources"
    ),
    f"GET {API}/score": Call(READER),
    f"GET {API}/alerts": Call(READER),
    f"GET {API}/alerts/{{alert_id}}": Call(READER, path=f"{API}/alerts/1"),
    f"PATCH {API}/alerts/{{alert_id}}": Call(
        CONTRIBUTOR, path=f"{API}/alerts/999999", body=lambda: {"status": "acknowledged"}
    ),
    # administration
    f"GET {API}/users": Call(OWNER),
    f"POST {API}/users": Call(OWNER, body=_user),
    f"PATCH {API}/users/{{user_id}}": Call(
        OWNER, path=f"{API}/users/999999", body=lambda: {"disabled": False}
    ),
    f"GET {API}/tokens": Call(OWNER),
    f"POST {API}/tokens": Call(
        OWNER, body=lambda: {"name": _unique("token"), "role": "reader", "expires_in_days": 1}
    ),
    f"DELETE {API}/tokens/{{token_id}}": Call(OWNER, path=f"{API}/tokens/999999"),
    f"GET {API}/settings": Call(READER),
    f"PUT {API}/settings": Call(OWNER, body=lambda: {"health_threshold": "high"}),
    f"GET {API}/audit-log": Call(OWNER),
    f"GET {API}/scans": Call(READER),
    f"GET {API}/status": Call(READER),
    f"GET {API}/export/{{what}}": Call(READER, path=f"{API}/export/findings"),
    # watched registries and jobs (a registry's notifications carry its secret, no token)
    f"GET {API}/registries": Call(READER),
    f"POST {API}/registries": Call(
        OWNER, body=lambda: {"url": f"https://{_unique('registry')}.example:5000"}
    ),
    f"GET {API}/registries/{{registry_id}}": Call(READER, path=f"{API}/registries/999999"),
    f"PATCH {API}/registries/{{registry_id}}": Call(
        OWNER, path=f"{API}/registries/999999", body=lambda: {"rescan_pulled_days": 7}
    ),
    f"DELETE {API}/registries/{{registry_id}}": Call(OWNER, path=f"{API}/registries/999999"),
    f"POST {API}/registries/{{registry_id}}/scan": Call(
        CONTRIBUTOR, path=f"{API}/registries/999999/scan", body=lambda: {"image": "app:1"}
    ),
    f"POST {API}/registries/{{registry_id}}/list": Call(
        CONTRIBUTOR, path=f"{API}/registries/999999/list"
    ),
    f"POST {API}/registries/{{registry_id}}/events": Call(
        PUBLIC, path=f"{API}/registries/999999/events", body=lambda: {"events": []}
    ),
    f"GET {API}/notifications/channels": Call(OWNER),
    f"POST {API}/notifications/channels": Call(
        OWNER,
        body=lambda: {
            "name": _unique("hook"),
            "kind": "webhook",
            "url": "https://hooks.example/seawall",
            "secret": "s" * 20,
        },
    ),
    f"DELETE {API}/notifications/channels/{{channel_id}}": Call(
        OWNER, path=f"{API}/notifications/channels/999999"
    ),
    f"POST {API}/notifications/channels/{{channel_id}}/test": Call(
        OWNER, path=f"{API}/notifications/channels/999999/test"
    ),
    f"GET {API}/notifications/rules": Call(OWNER),
    f"POST {API}/notifications/rules": Call(
        OWNER, body=lambda: {"name": "all", "channel_id": 999999}
    ),
    f"DELETE {API}/notifications/rules/{{rule_id}}": Call(
        OWNER, path=f"{API}/notifications/rules/999999"
    ),
    f"GET {API}/notifications/outbox": Call(OWNER),
    f"GET {API}/admission-decisions": Call(READER),
    f"GET {API}/jobs": Call(READER),
    f"GET {API}/jobs/{{job_id}}": Call(READER, path=f"{API}/jobs/999999"),
    f"POST {API}/jobs/{{job_id}}/cancel": Call(CONTRIBUTOR, path=f"{API}/jobs/999999/cancel"),
    f"POST {API}/jobs/{{job_id}}/retry": Call(CONTRIBUTOR, path=f"{API}/jobs/999999/retry"),
    # the dashboard
    "GET /login": Call(PUBLIC),
    "POST /login": Call(PUBLIC, body=_login_form),
    "POST /logout": Call(PAGE),
    "GET /": Call(PUBLIC),  # a redirect to /overview
    "GET /overview": Call(PAGE),
    "GET /inventory": Call(PUBLIC),  # a redirect to /inventory/images
    "GET /inventory/{tab}": Call(PAGE, path="/inventory/hosts"),
    "GET /assets/{asset_id}": Call(PAGE, path="/assets/1"),
    "GET /images/{digest}": Call(PAGE, path=f"/images/{DEMO_CONFIG}"),
    "GET /hosts/{host_id}": Call(PAGE, path="/hosts/1"),
    "GET /clusters/{cluster_id}": Call(PAGE, path="/clusters/1"),
    "GET /nodes/{node_id}": Call(PAGE, path="/nodes/1"),
    "GET /workloads/{workload_id}": Call(PAGE, path="/workloads/1"),
    "GET /recommendations": Call(PAGE),
    "GET /recommendations/{rec_id}": Call(PAGE, path="/recommendations/privileged-containers"),
    "GET /findings": Call(PAGE),
    "GET /findings/{finding_id}": Call(PAGE, path="/findings/1"),
    "GET /exceptions": Call(PAGE),
    "GET /alerts": Call(PAGE),
    "GET /alerts/{alert_id}": Call(PAGE, path="/alerts/1"),
    "GET /jobs": Call(PAGE),
    "GET /settings": Call(PAGE_OWNER),
    # the dashboard's forms: a signed-in user of the role, with the session's CSRF token
    "POST /alerts/{alert_id}/status": Call(
        PAGE_CONTRIBUTOR, path="/alerts/999999/status", body=lambda: {"status": "acknowledged"}
    ),
    "POST /exceptions": Call(PAGE_CONTRIBUTOR, body=_exception),
    "POST /exceptions/{exception_id}/lift": Call(
        PAGE_CONTRIBUTOR, path="/exceptions/999999/lift", body=dict
    ),
    "POST /settings/users": Call(PAGE_OWNER, body=_user),
    "POST /settings/users/{user_id}": Call(
        PAGE_OWNER, path="/settings/users/999999", body=lambda: {"role": "reader"}
    ),
    "POST /settings/tokens": Call(
        PAGE_OWNER, body=lambda: {"name": _unique("token"), "role": "reader"}
    ),
    "POST /settings/tokens/{token_id}/revoke": Call(
        PAGE_OWNER, path="/settings/tokens/999999/revoke", body=dict
    ),
    "POST /settings/threshold": Call(PAGE_OWNER, body=lambda: {"health_threshold": "high"}),
    "POST /settings/channels": Call(
        PAGE_OWNER,
        body=lambda: {
            "name": _unique("page-hook"),
            "kind": "webhook",
            "url": "https://hooks.example/x",
            "secret": "s" * 20,
        },
    ),
    "POST /settings/rules": Call(PAGE_OWNER, body=lambda: {"name": "r", "channel_id": "999999"}),
    "POST /jobs/{job_id}/cancel": Call(PAGE_CONTRIBUTOR, path="/jobs/999999/cancel", body=dict),
    "POST /settings/registries": Call(
        PAGE_OWNER, body=lambda: {"url": f"https://{_unique('page-registry')}.example"}
    ),
}


def routes(app: FastAPI) -> set[str]:
    """``METHOD path`` of every route (``MOUNT path`` of mounted apps), HEAD aside."""
    found = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            found.add(f"MOUNT {route.path}")
            continue
        for method in context.methods or ():
            if method != "HEAD":
                found.add(f"{method} {context.path_format}")
    return found


@dataclass
class Caller:
    name: str
    client: TestClient
    role: str | None  # None: anonymous
    session: bool = False  # signed in through the form (else a bearer token)
    csrf: str = ""


def callers(center: Center) -> list[Caller]:
    found = [Caller("anonymous", center.anonymous(), None)]
    for role in (READER, CONTRIBUTOR, OWNER):
        found.append(Caller(f"{role} token", center.client(role), role))
    found.append(Caller("scoped reader token", center.client(READER, ["host:build-01"]), READER))
    for role in (READER, CONTRIBUTOR, OWNER):
        name = f"{role}-user"
        center.user(name, role)
        browser, csrf = sign_in(center, name, PASSWORD)
        found.append(Caller(f"{role} session", browser, role, session=True, csrf=csrf))
    return found


def request(caller: Caller, method: str, call: Call, path: str) -> Any:
    headers = dict(call.headers)
    if caller.session and method not in ("GET", "HEAD"):
        headers["X-CSRF-Token"] = caller.csrf
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if call.content is not None:
        kwargs["content"] = call.content()
    elif call.body is not None:
        if path.startswith(API):
            kwargs["json"] = call.body()
        else:
            kwargs["data"] = call.body()
    return caller.client.request(method, call.path or path, **kwargs)


def expected(call: Call, caller: Caller, path: str) -> str:
    """The class of answer: "denied-401", "denied-403", "redirect-login", "allowed"."""
    if call.needs == PUBLIC:
        return "public"
    if call.needs == PAGE:
        return "allowed" if caller.session else "redirect-login"
    if call.needs.startswith("page:"):
        if not caller.session:
            return "redirect-login"
        assert caller.role is not None
        return "allowed" if RANK[caller.role] >= RANK[call.needs[5:]] else "page-403"
    if caller.role is None:
        return "denied-401"
    return "allowed" if RANK[caller.role] >= RANK[call.needs] else "denied-403"


def check(answer: str, response: Any, where: str) -> None:
    status = response.status_code
    assert status < 500, where
    for mark in ("Traceback", 'File "', "sqlalchemy"):
        assert mark not in response.text, where
    if answer == "public":
        assert status != 403, where
    elif answer == "allowed":
        assert 200 <= status < 400 or status in (404, 422), where
        assert status not in (401, 403), where
    elif answer == "page-403":
        assert status == 403 and response.headers["content-type"].startswith("text/html"), where
    elif answer == "redirect-login":
        assert status == 303 and response.headers["location"].startswith("/login"), where
    else:
        assert status == int(answer[-3:]), where
        assert response.headers["content-type"].startswith("application/json"), where
        assert isinstance(response.json()["detail"], str), where
        if status == 401:
            assert response.headers.get("www-authenticate") == "Bearer", where


@both_backends
def test_every_route_answers_each_caller_as_the_table_says(center: Center, advisory_db) -> None:
    owner = center.client(OWNER)
    for envelope in (envelopes.node_audit(), envelopes.demo_scan(advisory_db),
                     envelopes.host_audit()):  # fmt: skip
        assert owner.post(f"{API}/ingest", content=encode(envelope), headers=JSON).status_code
    found = routes(center.app)
    assert found - TABLE.keys() == set(), "routes missing from the table"
    assert TABLE.keys() - found == set(), "the table names routes the application lacks"
    everyone = callers(center)
    checked = 0
    # sign-out last: it ends the session the other requests use
    for key in sorted(found, key=lambda k: k == "POST /logout"):
        method, path = key.split(" ", 1)
        call = TABLE[key]
        if method == "MOUNT":
            method = "GET"
        for caller in everyone:
            response = request(caller, method, call, path)
            answer = expected(call, caller, path)
            where = f"{key} as {caller.name}: expected {answer}, got {response.status_code} "
            check(answer, response, where + response.text[:300])
            checked += 1
    assert checked == len(found) * len(everyone)


@both_backends
def test_bearer_pages_and_sign_out_need_a_session(center: Center) -> None:
    token = center.client(OWNER)
    assert token.get("/overview", follow_redirects=False).status_code == 303
    center.user("alice", READER)
    browser, csrf = sign_in(center, "alice", PASSWORD)
    assert browser.post("/logout", follow_redirects=False).status_code == 403
    assert browser.post("/logout", data={"csrf_token": "x" * 43}).status_code == 403
    assert browser.get("/overview", follow_redirects=False).status_code == 200  # still in
    out = browser.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert browser.get("/overview", follow_redirects=False).status_code == 303
    assert browser.get(f"{API}/status").status_code == 401


def _token(center: Center, expires_in: dt.timedelta | None) -> str:
    with center.app.state.center.sessions() as session, session.begin():
        _, value = create_token(
            session, "short", "owner", [], expires_in, "tests", dt.datetime.now(dt.UTC)
        )
    return value


@both_backends
def test_expired_revoked_and_garbage_tokens_are_401(center: Center) -> None:
    anonymous = center.anonymous()
    owner = center.client(OWNER)
    expired = _token(center, dt.timedelta(seconds=-1))
    live = _token(center, dt.timedelta(days=1))
    assert anonymous.get(f"{API}/status", headers={"Authorization": f"Bearer {live}"}).is_success
    (row,) = [t for t in owner.get(f"{API}/tokens").json() if t["prefix"] == live[:10]]
    assert owner.delete(f"{API}/tokens/{row['id']}").status_code == 204
    garbage = [
        f"Bearer {expired}",
        f"Bearer {live}",  # revoked
        "Bearer swt_" + "A" * 43,
        "Bearer " + "x" * 5000,
        "Bearer",
        "Bearer ",
        "bearer  ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        f"Bearer {live[:-1]}",
        f"Bearer {live} extra",
        "Bearer \t",
        "Bearer ' OR '1'='1",
        "Bearer \u00e9\u00e8",
    ]
    for header in garbage:
        for method, path in (("GET", f"{API}/status"), ("POST", f"{API}/ingest")):
            response = anonymous.request(
                method,
                path,
                headers={"Authorization": header.encode("latin-1")},  # type: ignore[dict-item]
                content=b"{}",
            )
            assert response.status_code == 401, (header, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            assert live not in response.text and expired not in response.text
    detail = anonymous.get(f"{API}/status", headers={"Authorization": f"Bearer {expired}"}).json()[
        "detail"
    ]
    assert detail == "token expired"


@both_backends
def test_a_session_cookie_needs_the_csrf_token_to_change_anything(center: Center) -> None:
    center.user("olivia", OWNER)
    browser, csrf = sign_in(center, "olivia", PASSWORD)
    changes = [
        ("PUT", f"{API}/settings", {"health_threshold": "critical"}),
        ("POST", f"{API}/tokens", {"name": "sneaky", "role": "owner"}),
        ("POST", f"{API}/users", {"name": "mallory", "password": PASSWORD, "role": "owner"}),
        ("POST", f"{API}/exceptions", _exception()),
        ("DELETE", f"{API}/tokens/1", None),
        ("PATCH", f"{API}/alerts/1", {"status": "dismissed", "reason": "x"}),
    ]
    for method, path, body in changes:
        for headers in (
            {},
            {"X-CSRF-Token": ""},
            {"X-CSRF-Token": "wrong"},
            {"X-CSRF-Token": csrf[:-1]},
        ):
            response = browser.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path, headers, response.text)
            assert "CSRF" in response.json()["detail"]
        # a form field is not taken by the API (the header is): still 403
        response = browser.request(method, path, data={"csrf_token": csrf})
        assert response.status_code in (403, 422), (method, path, response.text)
    owner = center.client(OWNER)
    assert owner.get(f"{API}/settings").json()["health_threshold"] == "high"
    assert [t["name"] for t in owner.get(f"{API}/tokens").json()] == [
        t["name"] for t in owner.get(f"{API}/tokens").json() if t["name"] != "sneaky"
    ]
    assert "mallory" not in {u["name"] for u in owner.get(f"{API}/users").json()}
    # with it, the change is made
    response = browser.put(
        f"{API}/settings", json={"health_threshold": "critical"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 200, response.text
    # reads need no CSRF token
    assert browser.get(f"{API}/settings").json()["health_threshold"] == "critical"


@both_backends
def test_a_disabled_or_demoted_user_loses_the_session(center: Center) -> None:
    center.user("dave", CONTRIBUTOR)
    browser, csrf = sign_in(center, "dave", PASSWORD)
    assert browser.get(f"{API}/status").json()["principal"]["role"] == CONTRIBUTOR
    with center.app.state.center.sessions() as session, session.begin():
        session.execute(update(User).where(User.name == "dave").values(role="reader"))
    assert browser.get(f"{API}/status").json()["principal"]["role"] == READER
    response = browser.post(f"{API}/exceptions", json=_exception(), headers={"X-CSRF-Token": csrf})
    assert response.status_code == 403
    owner = center.client(OWNER)
    (dave,) = [u for u in owner.get(f"{API}/users").json() if u["name"] == "dave"]
    assert owner.patch(f"{API}/users/{dave['id']}", json={"disabled": True}).status_code == 200
    assert browser.get(f"{API}/status").status_code == 401
    assert browser.get("/overview", follow_redirects=False).status_code == 303


def test_the_table_is_the_application() -> None:
    """Guards the guard: the table's keys are well formed and its rules known."""
    for key, call in TABLE.items():
        method, path = key.split(" ", 1)
        assert method in {"GET", "POST", "PUT", "PATCH", "DELETE", "MOUNT"}, key
        assert path.startswith("/"), key
        assert call.needs in {
            PUBLIC,
            PAGE,
            READER,
            CONTRIBUTOR,
            OWNER,
            PAGE_CONTRIBUTOR,
            PAGE_OWNER,
        }, key
    assert json.dumps(sorted(TABLE))  # printable, for a failing diff
