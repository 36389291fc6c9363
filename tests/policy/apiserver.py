"""A local HTTP server that answers like the Kubernetes API from recorded list responses
(tests/fixtures/policy/cluster/), so the cluster-listing layer runs against real HTTP with
the real client. Unrecorded paths get the API's 404 Status; a wrong token gets 401."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.policy.support import FIXTURES

RECORDED = FIXTURES / "cluster"
TOKEN = "test-token-0123456789"


def _status(code: int, reason: str, message: str) -> bytes:
    return json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "code": code,
            "reason": reason,
            "message": message,
        }
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        path = self.path.split("?", 1)[0]
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            code, body = 401, _status(401, "Unauthorized", "Unauthorized")
        else:
            recorded = RECORDED / (path.strip("/").replace("/", "_") + ".json")
            if recorded.is_file():
                code, body = 200, recorded.read_bytes()
            else:
                code, body = (
                    404,
                    _status(404, "NotFound", "the server could not find the requested resource"),
                )
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def recorded_api(directory: Path, token: str = TOKEN) -> Iterator[tuple[Path, list[str]]]:
    """Serve the recordings; yield a kubeconfig for them and the list of requested paths."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = directory / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: rec, cluster: {{server: 'http://127.0.0.1:{server.server_port}'}}}}]\n"
        f"users: [{{name: tester, user: {{token: {token}}}}}]\n"
        "contexts: [{name: recorded, context: {cluster: rec, user: tester}}]\n"
        "current-context: recorded\n"
    )
    try:
        yield kubeconfig, server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
