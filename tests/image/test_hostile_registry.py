"""A hostile registry: answers that never end, declare gigabytes, or inflate from a small
gzip ``Content-Encoding`` body. Each is refused in one line, within a small memory limit."""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.limits import assert_one_line_refusal, run_limited
from tests.support.sample import sample_image

INFLATED = 2 << 30  # what the bomb inflates to: far beyond the memory limit


def gzip_bomb(size: int = INFLATED) -> bytes:
    """A gzip stream of ``size`` zero bytes, about a thousandth of that: one compressed
    megabyte repeated (each full-flushed block stands alone; the checksum is wrong, which
    only a reader that inflates it all would notice)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    head = compressor.compress(b"\0" * (1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(b"\0" * (1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return head + block * (size // (1 << 20) - 1) + compressor.flush()


class _Hostile(BaseHTTPRequestHandler):
    bomb = b""
    blobs: dict[str, bytes] = {}  # a real image too, by digest, and its manifest as "good"

    def do_GET(self) -> None:
        kind = self.path.rsplit("/", 1)[-1]
        try:
            if kind in self.blobs:
                self._answer({}, [self.blobs[kind]])
            elif kind == "gzipped":
                self._answer({"Content-Encoding": "gzip"}, [gzip.compress(self.blobs["good"])])
            elif kind == "bomb":
                self._answer({"Content-Encoding": "gzip"}, [self.bomb])
            elif kind == "endless":
                self._answer({}, (b"{" + b" " * (1 << 20) for _ in range(200)))
            elif kind == "declared":
                self.send_response(200)
                self.send_header("Content-Length", str(10**10))
                self.end_headers()
            else:
                self.send_error(404)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what a refusal looks like from here

    def _answer(self, headers: dict[str, str], chunks: Iterator[bytes] | list[bytes]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(chunk)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def registry() -> Iterator[str]:
    _Hostile.bomb = gzip_bomb()
    manifest, blobs = sample_image().manifest()
    _Hostile.blobs = {**blobs, "good": manifest}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("tag", ["bomb", "endless", "declared"])
def test_oversized_registry_answers_are_refused(registry: str, tag: str) -> None:
    result = run_limited(
        "sbom", "--source", "registry", "--no-cache", f"{registry}/hostile:{tag}",
        memory_mb=512, timeout=60,
    )  # fmt: skip
    assert_one_line_refusal(result, "manifest", "refusing")


@pytest.mark.parametrize("tag", ["good", "gzipped"])
def test_a_real_image_from_the_same_registry_is_read(registry: str, tag: str) -> None:
    result = run_limited(
        "sbom", "--source", "registry", "--no-cache", "-f", "json", f"{registry}/ok:{tag}",
        memory_mb=512, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "left-pad" in result.stdout


def test_the_bomb_is_a_bomb() -> None:
    bomb = gzip_bomb(64 << 20)
    assert len(bomb) < 1 << 20
    inflated = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(bomb[:-8])  # no trailer
    assert len(inflated) == 64 << 20
