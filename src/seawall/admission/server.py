"""The webhook's HTTPS server: ``POST /validate`` (AdmissionReview v1 and v1beta1),
``GET /healthz`` and ``GET /metrics``.

Built on the standard library's threading HTTP server rather than an ASGI stack: a
decision is CPU-bound work of a fraction of a millisecond, the API server keeps its
connections alive, and a thread per connection with no event loop, routing layer or
validation framework adds the least latency (p99 figures in bench/admission_latency.py).

Clients may be hostile: :mod:`seawall.safety.httpserver` caps connections, reads each
request within ``read_timeout`` and a header budget, and takes only one ``Content-Length``
of ``application/json`` up to ``max_request_bytes``. Here, reviews in progress are capped
too: beyond ``max_in_flight`` a review gets a 503 at once.
"""

from __future__ import annotations

import ssl
import threading
import time
from pathlib import Path

import msgspec

from seawall.admission.decide import Decider
from seawall.admission.metrics import Metrics
from seawall.admission.review import ReviewError, parse_review, response_body
from seawall.safety.httpserver import BoundedHandler, BoundedServer


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


class _Handler(BoundedHandler):
    server_version = "seawall-admission"
    server: WebhookServer

    def refuse(self, code: int, message: str) -> None:
        self.server.metrics.count("overloaded" if code == 503 else "bad_request")
        self.send(code, msgspec.json.encode({"error": message}))

    def do_GET(self) -> None:
        if self.path in ("/healthz", "/readyz", "/livez"):
            self.send(200, b"ok\n", "text/plain; charset=utf-8")
        elif self.path == "/metrics":
            body = self.server.metrics.render().encode()
            self.send(200, body, "text/plain; version=0.0.4; charset=utf-8")
        else:
            self.send(404, b'{"error":"not found"}')

    def do_POST(self) -> None:
        started = time.perf_counter()
        if self.path.split("?", 1)[0] not in ("/validate", "/"):
            self.close_connection = True
            self.send(404, b'{"error":"not found"}')
            return
        body = self.body()
        if body is None:
            return
        if not self.server.reviews.acquire(blocking=False):
            self.refuse(503, "too many reviews in progress, retry")
            return
        try:
            self._review(body, started)
        finally:
            self.server.reviews.release()

    def _review(self, body: bytes, started: float) -> None:
        try:
            request = parse_review(body)
        except ReviewError as exc:
            self.refuse(400, f"malformed AdmissionReview: {exc}")
            return
        verdict = self.server.decider.decide(request)
        self.send(200, response_body(request, verdict.allowed, verdict.message, verdict.warnings))
        outcome = "error" if verdict.errors else ("allowed" if verdict.allowed else "denied")
        self.server.metrics.record(outcome, time.perf_counter() - started, verdict.violations)


class WebhookServer(BoundedServer):
    """The webhook: a :class:`~seawall.safety.httpserver.BoundedServer` bound to a
    :class:`Decider`, with its metrics and a cap on reviews in progress."""

    def __init__(
        self, address: tuple[str, int], decider: Decider, tls: ssl.SSLContext | None
    ) -> None:
        settings = decider.settings
        super().__init__(
            address,
            _Handler,
            tls,
            max_connections=settings.max_connections,
            max_body_bytes=settings.max_request_bytes,
            read_timeout=settings.read_timeout,
        )
        self.decider = decider
        self.metrics = Metrics()
        self.reviews = threading.BoundedSemaphore(settings.max_in_flight)

    def refused_connection(self) -> None:
        self.metrics.count("refused_connection")
