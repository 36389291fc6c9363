"""Helpers for the advisory database tests: OSV records, zips and a real local HTTP server."""

from __future__ import annotations

import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vulndb"


def osv(
    record_id: str,
    ecosystem: str = "PyPI",
    package: str = "demo",
    *,
    fixed: str = "2.0",
    **extra: Any,
) -> dict[str, Any]:
    """A minimal valid OSV record affecting ``package`` below ``fixed``."""
    record: dict[str, Any] = {
        "id": record_id,
        "modified": "2024-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": package},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
    }
    record.update(extra)
    return record


def write_zip(path: Path, records: dict[str, Any]) -> Path:
    """A zip of ``name -> record (dict, dumped as JSON) or raw bytes``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, record in records.items():
            data = record if isinstance(record, bytes) else json.dumps(record).encode()
            archive.writestr(name, data)
    return path


class Archive:
    """What the server answers for one path; tests change it between requests."""

    def __init__(self, data: bytes, etag: str) -> None:
        self.data = data
        self.etag = etag
        self.die_after: int | None = None  # bytes sent before the connection is dropped


class OsvServer:
    """A real HTTP server on 127.0.0.1 serving ``/<Ecosystem>/all.zip`` with ETags."""

    def __init__(self) -> None:
        self.archives: dict[str, Archive] = {}
        self.requests: list[tuple[str, int]] = []  # (path, status)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                archive = server.archives.get(self.path)
                if archive is None:
                    self._status(404)
                    return
                if self.headers.get("If-None-Match") == archive.etag:
                    self._status(304)
                    return
                server.requests.append((self.path, 200))
                self.send_response(200)
                self.send_header("Content-Length", str(len(archive.data)))
                self.send_header("ETag", archive.etag)
                self.send_header("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
                self.end_headers()
                if archive.die_after is None:
                    self.wfile.write(archive.data)
                    return
                self.wfile.write(archive.data[: archive.die_after])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)  # the server "dies" mid-download

            def _status(self, code: int) -> None:
                server.requests.append((self.path, code))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, ecosystem: str, data: bytes, etag: str) -> Archive:
        from urllib.parse import quote

        archive = Archive(data, etag)
        self.archives[f"/{quote(ecosystem)}/all.zip"] = archive
        return archive

    def downloads(self) -> list[str]:
        return [path for path, status in self.requests if status == 200]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def osv_server() -> Iterator[OsvServer]:
    server = OsvServer()
    yield server
    server.close()
