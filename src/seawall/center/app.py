"""The application factory: ``create_app(config)`` -> the center as an ASGI application.

It connects to the database and migrates it, mounts ``/api/v1`` and the dashboard, and adds
what every response needs: bounded request bodies, security headers, errors as one JSON
line (never a stack trace). The background worker starts with the application and stops
with it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from seawall import __version__
from seawall.center.api.deps import known_query
from seawall.center.api.routers import (
    admin,
    admission,
    export,
    findings,
    ingest,
    inventory,
    jobs,
    notifications,
    posture,
    registries,
)
from seawall.center.config import CenterConfig
from seawall.center.jobs.runner import Worker
from seawall.center.pages import BadCursor
from seawall.center.queries.common import NotFound
from seawall.center.runtime import Center
from seawall.center.security.scope import OutsideScope
from seawall.center.store.database import connect, migrate, sessions
from seawall.contract.schema import json_schema

log = logging.getLogger(__name__)
API = "/api/v1"
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether announced by
    Content-Length or streamed (chunked); requests with a body and no length are read up to
    the limit only."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lengths = [v for k, v in scope["headers"] if k == b"content-length"]
        if len(lengths) > 1 or (lengths and not lengths[0].isdigit()):
            await _plain(send, 400, "invalid Content-Length")
            return
        if lengths and int(lengths[0]) > self.limit:
            await _plain(send, 413, f"request body larger than {self.limit} bytes")
            return
        seen = 0

        async def limited() -> MutableMapping[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _plain(send, 413, f"request body larger than {self.limit} bytes")


class _TooLarge(Exception):
    pass


async def _plain(send: Send, code: int, detail: str) -> None:
    body = JSONResponse({"detail": detail}).body
    await send(
        {
            "type": "http.response.start",
            "status": code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """The headers of :data:`SECURITY_HEADERS` on every response; API answers are never
    cached; HSTS when the request came over TLS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith(API)
        secure = scope.get("scheme") == "https"

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                if api and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                if secure:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _errors(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status.HTTP_404_NOT_FOUND)

    @app.exception_handler(OutsideScope)
    async def outside_scope(_: Request, exc: OutsideScope) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status.HTTP_403_FORBIDDEN)

    @app.exception_handler(BadCursor)
    async def bad_cursor(_: Request, exc: BadCursor) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status.HTTP_400_BAD_REQUEST)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # the field and the problem, never the value sent (it may be a password)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail}, exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return JSONResponse({"detail": "internal error"}, status.HTTP_500_INTERNAL_SERVER_ERROR)


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The generated document, plus the result envelope's schema under components (its
    ``$defs`` rewritten as component references), so schemathesis and clients can use it."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title="Seawall center API",
            version=__version__,
            description="Container security center: inventory, findings, recommendations, "
            "secure score, alerts. Authenticate with `Authorization: Bearer TOKEN`.",
            routes=app.routes,
        )
        text = json.dumps(json_schema()).replace('"#/$defs/', '"#/components/schemas/')
        defs = json.loads(text)["$defs"]
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in defs.items():
            components.setdefault(name, schema)
        _document_errors(document)
        document["components"].setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
        }
        document["security"] = [{"bearer": []}]
        app.openapi_schema = document
        return document

    return build


ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "description": "Every error: what went wrong, or (422 on parameters and JSON bodies) "
    "each field and its problem",
    "properties": {
        "detail": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
            ]
        }
    },
    "required": ["detail"],
}
ERRORS = {
    "400": "Malformed request (a cursor or Content-Length that is not valid)",
    "401": "Not authenticated (no token, or an unknown, revoked or expired one)",
    "403": "Authenticated, but the role or scope does not allow it (or no CSRF token)",
    "404": "Not found in the caller's scope",
    "413": "Request body larger than the center takes",
    "422": "A parameter or the body is not valid: the field and the problem",
}
CONFLICTS = {
    ("post", "/api/v1/ingest"),
    ("post", "/api/v1/users"),
    ("patch", "/api/v1/users/{user_id}"),
    ("post", "/api/v1/registries"),
    ("post", "/api/v1/notifications/channels"),
}


def _document_errors(document: dict[str, Any]) -> None:
    """One error body everywhere (``{"detail": ...}``), and the error statuses each
    operation can answer with."""
    document.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            codes = dict(ERRORS)
            if (method, path) in CONFLICTS:
                codes["409"] = "It conflicts with what is stored (a name taken, a fingerprint "
                "of another asset)"
            if path in (f"{API}/ingest", f"{API}/registries/{{registry_id}}/events"):
                codes["415"] = "The body is not application/json"
            for code, description in codes.items():
                responses[code] = {"description": description, "content": error}


def create_app(config: CenterConfig, *, background: bool | None = None) -> FastAPI:
    """The center for ``config``; ``background`` overrides ``config.background``."""
    engine = connect(config.url)
    migrate(engine)
    center = Center(config=config, engine=engine, sessions=sessions(engine))
    run_jobs = config.background if background is None else background

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if run_jobs:
            center.worker = Worker(center)
            center.worker.start()
        try:
            yield
        finally:
            if center.worker is not None:
                center.worker.stop()
            center.close()

    app = FastAPI(
        title="Seawall center",
        version=__version__,
        openapi_url=f"{API}/openapi.json",
        docs_url=None,  # Swagger UI loads from a CDN: offline sites and the CSP refuse it
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.center = center
    app.state.known_query = {}  # route -> the query parameters it documents (api/deps.py)
    for module in (
        ingest,
        inventory,
        findings,
        posture,
        admin,
        export,
        registries,
        jobs,
        notifications,
        admission,
    ):
        app.include_router(module.router, prefix=API, dependencies=[Depends(known_query)])

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    from seawall.center.web.routes import mount

    mount(app)
    _errors(app)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    # the last added is the outermost: the headers go on every answer, the body limit's too
    app.add_middleware(BodyLimit, limit=config.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
