"""Real receivers for the notification channels: an HTTP server in a thread, an SMTP server
(aiosmtpd) in its own process writing a Maildir, and UDP/TCP sockets for syslog."""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from seawall.center.notify import Notification, Resource
from seawall.model import Severity
from tests.support.smtp import SmtpServer, running_smtp

WHEN = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)


def make_notification(**changes: object) -> Notification:
    values: dict[str, object] = {
        "kind": "new_critical_finding",
        "severity": Severity.CRITICAL,
        "title": "CVE-2024-3094 in xz-utils 5.6.0",
        "summary": "Backdoored release; upgrade to 5.6.1+really5.4.5.",
        "resource": Resource(
            type="image",
            name="registry.example/shop/web:1.2",
            registry="registry.example",
            repository="shop/web",
            cluster="prod",
            namespace="shop",
        ),
        "occurred_at": WHEN,
        "dedupe_key": "finding:abc",
        "url": "https://seawall.example/findings/1",
        "facts": (("Package", "xz-utils 5.6.0"), ("Fixed in", "5.6.1")),
    }
    values.update(changes)
    return Notification(**values)  # type: ignore[arg-type]


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server answering by path: /status/<code>, /slow, /huge, /redirect."""

    base: str
    requests: list[Recorded] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = _Server(("127.0.0.1", 0), _Handler)
    result = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    server.recorded = result.requests  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield result
    server.shutdown()
    server.server_close()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that stops reading (the bounded read) is expected here


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {key.lower(): value for key, value in self.headers.items()}
        self.server.recorded.append(Recorded(self.path, headers, body))  # type: ignore[attr-defined]
        if self.path == "/slow":
            time.sleep(3)
            self._answer(200, b"late")
        elif self.path == "/huge":
            self.send_response(500)
            self.send_header("Content-Length", str(50 * 1024 * 1024))
            self.end_headers()
            try:
                for _ in range(50 * 16):
                    self.wfile.write(b"x" * 65536)
            except OSError:
                pass
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path.startswith("/status/"):
            code = int(self.path.rsplit("/", 1)[1])
            self._answer(code, f"answer {code} \x1b[31m".encode() + b"y" * 5000)
        else:
            self._answer(200, b"ok")

    def _answer(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """aiosmtpd in a subprocess, delivering into a Maildir."""
    with running_smtp(tmp_path / "maildir") as server:
        yield server


NotificationFactory = Callable[..., Notification]


@pytest.fixture
def notification() -> NotificationFactory:
    return make_notification
