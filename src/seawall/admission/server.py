"""The webhook's HTTPS server: ``POST /validate`` (AdmissionReview v1 and v1beta1),
``GET /healthz`` and ``GET /metrics``.

Built on the standard library's threading HTTP server rather than an ASGI stack: a
decision is CPU-bound work of a fraction of a millisecond, the API server keeps its
connections alive, and a thread per connection with no event loop, routing layer or
validation framework adds the least latency (p99 figures in bench/admission_latency.py).
TLS handshakes run in the connection's thread, never in the accept loop.
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
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        super().setup()

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
        self.server.metrics.count("bad_request")
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
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.isdigit():
            self.close_connection = True
            self._error(411, "Content-Length is required")
            return
        length = int(length_header)
        if length > self.server.decider.settings.max_request_bytes:
            self.close_connection = True  # the body is not read: the connection is unusable
            self._error(
                413,
                f"request of {length} bytes exceeds the limit of "
                f"{self.server.decider.settings.max_request_bytes}",
            )
            return
        body = self.rfile.read(length)
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
        if tls is not None:
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops or fails the TLS handshake is not worth a traceback."""

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="webhook", daemon=True)
        thread.start()
        return thread
