"""The Kubernetes API server's audit webhook, as ``runtime watch --audit-webhook`` receives it.

The API server POSTs batches of audit events (an ``EventList``) as JSON. Receiving only
enqueues the body, so the API server is answered at once whatever the detector is doing;
decoding happens on the consumer thread. Anyone who can reach the port can send anything,
so the server is a :class:`~seawall.safety.httpserver.BoundedServer`: capped connections,
requests read within a deadline, one ``Content-Length`` of ``application/json`` up to
``$SEAWALL_MAX_WEBHOOK_BODY_BYTES`` (32 MiB).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

from seawall.errors import EnvironmentFailure, InputError
from seawall.safety.httpserver import BoundedHandler, BoundedServer
from seawall.safety.limits import max_bytes


class _Handler(BoundedHandler):
    server_version = "seawall-runtime"
    server: AuditWebhookServer

    def refuse(self, code: int, message: str) -> None:
        self.server.on_refused(f"{code} {message}")
        super().refuse(code, message)

    def do_GET(self) -> None:
        if self.path in ("/healthz", "/readyz", "/livez"):
            self.send(200, b"ok\n", "text/plain; charset=utf-8")
        else:
            self.send(404, b'{"error":"not found"}')

    def do_POST(self) -> None:
        body = self.body()
        if body is not None:
            self.server.on_batch(body)
            self.send(200, b"")


class AuditWebhookServer(BoundedServer):
    """Hands each batch's body to ``on_batch`` and each refused request to ``on_refused``."""

    def __init__(
        self,
        address: tuple[str, int],
        tls: ssl.SSLContext | None,
        on_batch: Callable[[bytes], None],
        on_refused: Callable[[str], None],
    ) -> None:
        super().__init__(address, _Handler, tls, max_body_bytes=max_bytes("WEBHOOK_BODY"))
        self.on_batch = on_batch
        self.on_refused = on_refused


def listen(
    address: str,
    cert: Path | None,
    key: Path | None,
    on_batch: Callable[[bytes], None],
    on_refused: Callable[[str], None],
) -> AuditWebhookServer:
    """A server bound to ``HOST:PORT`` (HTTPS with ``cert`` and ``key``), not yet serving."""
    host, _, port = address.rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        raise InputError(
            f"bad --audit-webhook {address!r}", hint="use HOST:PORT, e.g. 0.0.0.0:8765"
        )
    tls = None
    if cert is not None:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            tls.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            raise InputError(f"cannot load the audit webhook's TLS key pair: {exc}") from None
    try:
        return AuditWebhookServer((host or "127.0.0.1", int(port)), tls, on_batch, on_refused)
    except OSError as exc:
        raise EnvironmentFailure(f"cannot listen on {address}: {exc.strerror}") from None
