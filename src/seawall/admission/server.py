"""The webhook's HTTPS server: ``POST /validate`` (AdmissionReview v1 and v1beta1),
``GET /healthz`` and ``GET /metrics``.

Built on the standard library's threading HTTP server rather than an ASGI stack: a
decision is CPU-bound work of a fraction of a millisecond, the API server keeps its
connections alive, and a thread per connection with no event loop, routing layer or
validation framework adds the least latency (p99 figures in bench/admission_latency.py).
TLS handshakes run in the connection's thread, never in the accept loop.

Clients may be hostile. Connections are capped (beyond ``max_connections`` a new one is
closed at once, with no thread), so are reviews in progress (beyond ``max_in_flight`` a
review gets a 503 at once); a request must arrive whole within ``read_timeout`` and its
headers within :data:`~seawall.admission.reading.MAX_HEADER_BYTES`; a body must be
``application/json`` with exactly one ``Content-Length`` and no ``Transfer-Encoding``
(request smuggling needs both), no larger than ``max_request_bytes``.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import msgspec

from seawall.admission.decide import Decider
from seawall.admission.metrics import Metrics
from seawall.admission.reading import RequestReader
from seawall.admission.review import ReviewError, parse_review, response_body


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the API server reuses connections
    server_version = "seawall-admission"
    sys_version = ""
    timeout = 30  # idle keep-alive connections are closed
    server: WebhookServer

    def setup(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.settimeout(self.timeout)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()
        self.rfile.close()  # the plain reader setup() made; the socket stays open
        self.rfile = RequestReader(self.request, self.server.decider.settings.read_timeout)

    def handle_one_request(self) -> None:
        assert isinstance(self.rfile, RequestReader)
        self.rfile.next_request()
        super().handle_one_request()

    def log_message(self, format: str, *args: Any) -> None:
        """Access logs are replaced by the decision log."""

    def _send(self, code: int, body: bytes, content_type: str = "application/json") -> None:
        # Headers and body leave in one write (one TLS record, one segment): separate small
        # writes meet Nagle's algorithm and delayed ACKs and cost tens of milliseconds.
        head = [
            f"{self.protocol_version} {code} {self.responses[code][0]}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
        ]
        if self.close_connection:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    def _error(self, code: int, message: str) -> None:
        self.server.metrics.count("overloaded" if code == 503 else "bad_request")
        self._send(code, msgspec.json.encode({"error": message}))

    def do_GET(self) -> None:
        if self.path in ("/healthz", "/readyz", "/livez"):
            self._send(200, b"ok\n", "text/plain; charset=utf-8")
        elif self.path == "/metrics":
            body = self.server.metrics.render().encode()
            self._send(200, body, "text/plain; version=0.0.4; charset=utf-8")
        else:
            self._send(404, b'{"error":"not found"}')

    def do_POST(self) -> None:
        started = time.perf_counter()
        if self.path.split("?", 1)[0] not in ("/validate", "/"):
            self.close_connection = True
            self._send(404, b'{"error":"not found"}')
            return
        length = self._content_length()
        if length is None:
            return
        body = self.rfile.read(length)
        if len(body) < length:  # the client closed early
            self.close_connection = True
            return
        if not self.server.reviews.acquire(blocking=False):
            self._error(503, "too many reviews in progress, retry")
            return
        try:
            self._review(body, started)
        finally:
            self.server.reviews.release()

    def _content_length(self) -> int | None:
        """The body's length, or None after refusing the request (and closing: a body left
        unread makes the connection unusable)."""
        lengths = self.headers.get_all("Content-Length") or []
        media_type = self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        limit = self.server.decider.settings.max_request_bytes
        keep_alive, self.close_connection = self.close_connection, True
        if "Transfer-Encoding" in self.headers and lengths:
            self._error(400, "Content-Length and Transfer-Encoding together are refused")
        elif not lengths:
            self._error(411, "Content-Length is required")
        elif len(lengths) > 1:
            self._error(400, "more than one Content-Length")
        elif not (lengths[0].isascii() and lengths[0].isdigit() and len(lengths[0]) <= 18):
            self._error(400, "Content-Length is not a number")
        elif media_type != "application/json":
            self._error(415, "Content-Type must be application/json")
        elif int(lengths[0]) > limit:
            self._error(413, f"request of {lengths[0]} bytes exceeds the limit of {limit}")
        else:
            self.close_connection = keep_alive
            return int(lengths[0])
        return None

    def _review(self, body: bytes, started: float) -> None:
        try:
            request = parse_review(body)
        except ReviewError as exc:
            self._error(400, f"malformed AdmissionReview: {exc}")
            return
        verdict = self.server.decider.decide(request)
        self._send(200, response_body(request, verdict.allowed, verdict.message, verdict.warnings))
        outcome = "error" if verdict.errors else ("allowed" if verdict.allowed else "denied")
        self.server.metrics.record(outcome, time.perf_counter() - started, verdict.violations)


class WebhookServer(ThreadingHTTPServer):
    """A threading HTTPS server bound to a :class:`Decider`."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], decider: Decider, tls: ssl.SSLContext | None
    ) -> None:
        super().__init__(address, _Handler)
        self.decider = decider
        self.metrics = Metrics()
        self.connections = threading.BoundedSemaphore(decider.settings.max_connections)
        self.reviews = threading.BoundedSemaphore(decider.settings.max_in_flight)
        if tls is not None:
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread for the connection, unless ``max_connections`` are open already: then
        it is closed at once (answering would need a TLS handshake, in this loop)."""
        if not self.connections.acquire(blocking=False):
            self.metrics.count("refused_connection")
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops or fails the TLS handshake is not worth a traceback."""

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="webhook", daemon=True)
        thread.start()
        return thread
