"""Open an image blob, undo its compression, verify its digest while it is read.

A :class:`BlobRef` says where a blob's bytes are (a byte range of a local file, or a registry
URL) and is picklable, so layers can be analysed in worker processes. Compression is detected
from the content (gzip, zstd or none), not trusted from the media type. The digest is computed
over the stored bytes as they stream past, so nothing is read twice; a mismatch raises
:class:`~seawall.errors.DigestMismatchError` after the read and the result is discarded.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import queue
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TypeVar, cast

import isal.igzip_threaded
import msgspec
import zstandard

from seawall.errors import (
    DigestMismatchError,
    ImageFormatError,
    InputError,
    RegistryError,
    UnsafeInputError,
)
from seawall.image.digests import DigestPrefetcher
from seawall.image.magic import GZIP_MAGIC, ZSTD_MAGIC, is_compressed
from seawall.image.tarreader import ByteSource, Readable, StreamSource, WindowSource
from seawall.safety.files import open_descriptor

# Decompression bomb guard: past the first GiB, output may be at most this many times the
# stored size (real layers compress 2-10x; sparse files rarely beyond 50x).
MAX_RATIO = 200
RATIO_GRACE = 1 << 30
_CHUNK = 4 << 20

T = TypeVar("T")


WHOLE_FILE = -1


class FileBlob(msgspec.Struct, frozen=True):
    """``size`` bytes at ``offset`` in the local file ``path`` (:data:`WHOLE_FILE`: all)."""

    path: str
    offset: int
    size: int


class HttpBlob(msgspec.Struct, frozen=True):
    """A blob served over HTTP(S) by a registry."""

    url: str
    headers: dict[str, str]
    verify_tls: bool = True
    size: int = 0


BlobRef = FileBlob | HttpBlob


def check_digest(what: str, expected: str, actual_hex: str) -> None:
    """Raise unless ``expected`` (``sha256:<hex>``) names ``actual_hex``."""
    algorithm, _, hex_digest = expected.partition(":")
    if algorithm != "sha256":
        raise ImageFormatError(f"{what}: unsupported digest algorithm {algorithm!r}")
    if hex_digest != actual_hex:
        raise DigestMismatchError(what, expected, f"sha256:{actual_hex}")


class _HashingReader:
    """Passes reads through while hashing and counting the bytes."""

    def __init__(self, raw: Readable) -> None:
        self._raw = raw
        self.hasher = hashlib.sha256()
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.hasher.update(data)
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """For decompressors that read with ``readinto`` (isal's threaded reader)."""
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass


class _PrefetchingHasher(_HashingReader):
    """Reads and hashes the stored bytes ahead, on another thread, a few chunks at a time.

    A gzip layer then keeps two cores busy: one decompresses (isal's reader thread) while
    this one reads and hashes, and the tar walker takes what is left.
    """

    _DEPTH = 4

    def __init__(self, raw: Readable) -> None:
        super().__init__(raw)
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(self._DEPTH)
        self._stop = threading.Event()
        self._chunks = ChunkReader(iter(self._next_chunk, b""))
        self._thread = threading.Thread(target=self._fill, daemon=True)
        self._thread.start()

    def _fill(self) -> None:
        try:
            while not self._stop.is_set():
                chunk = self._raw.read(_CHUNK)
                self.hasher.update(chunk)
                self.count += len(chunk)
                self._queue.put(chunk)
                if not chunk:
                    return
        except BaseException as exc:  # handed to the reading thread, which raises it
            self._queue.put(exc)

    def _next_chunk(self) -> bytes:
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def read(self, size: int = -1) -> bytes:
        return self._chunks.read(size)

    def close(self) -> None:
        """Stop the reader thread (it may be blocked on a full queue after an error)."""
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)


class _BombGuard:
    """Counts decompressed bytes and stops a decompression bomb early."""

    def __init__(self, stream: Readable, stored: _HashingReader, label: str) -> None:
        self._stream, self._stored, self._label = stream, stored, label
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._stream.read(size)
        except (OSError, EOFError, ValueError, zlib.error, zstandard.ZstdError) as exc:
            raise ImageFormatError(f"{self._label}: cannot decompress: {exc}") from None
        self.count += len(data)
        if self.count > RATIO_GRACE and self.count > MAX_RATIO * max(self._stored.count, 1):
            raise UnsafeInputError(
                f"{self._label}: expands more than {MAX_RATIO}x; refusing a decompression bomb"
            )
        return data

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass


class ChunkReader:
    """A file-like view of an iterator of byte chunks (an HTTP body, a Docker save stream)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = memoryview(b"")

    def read(self, size: int = -1) -> bytes:
        if not self._buffer:
            self._buffer = memoryview(next(self._chunks, b""))
        if size < 0:
            rest = bytes(self._buffer) + b"".join(self._chunks)
            self._buffer = memoryview(b"")
            return rest
        data = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return bytes(data)

    def readable(self) -> bool:
        return True


class Prefixed:
    """``head`` (bytes already read from ``raw``) followed by the rest of ``raw``."""

    def __init__(self, raw: Readable, head: bytes) -> None:
        self._raw, self._head = raw, head

    def read(self, size: int = -1) -> bytes:
        if self._head:
            data, self._head = self._head, b""
            return data
        return self._raw.read(size)

    def readable(self) -> bool:
        return True


class _FileRange:
    """A sequential reader over a byte range of a file descriptor."""

    def __init__(self, fd: int, offset: int, size: int) -> None:
        self._fd, self._pos, self._end = fd, offset, offset + size

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = self._end - self._pos
        data = os.pread(self._fd, max(0, min(size, self._end - self._pos)), self._pos)
        self._pos += len(data)
        return data

    def readable(self) -> bool:
        return True


def _decompressor(head: bytes, stored: _HashingReader, label: str) -> _BombGuard | None:
    """A decompressed stream for gzip/zstd content, or None for an uncompressed tar."""
    stream: Readable
    if head.startswith(GZIP_MAGIC):
        stream = isal.igzip_threaded.open(stored, "rb", threads=1)  # type: ignore[no-untyped-call]
    elif head.startswith(ZSTD_MAGIC):
        stream = zstandard.ZstdDecompressor().stream_reader(
            cast(IO[bytes], stored), read_across_frames=True
        )
    else:
        return None
    return _BombGuard(stream, stored, label)


def open_decompressed(raw: Readable, label: str) -> Readable:
    """The decompressed content of a gzip or zstd stream (bomb-guarded), else ``raw``."""
    head = raw.read(8)
    stored = _HashingReader(Prefixed(raw, head))
    return _decompressor(head, stored, label) or stored


class Digests(msgspec.Struct, frozen=True):
    """The sha256 (hex) of a blob's stored bytes and, when asked for, of its content."""

    stored: str
    content: str = ""


def read_blob(
    blob: BlobRef,
    label: str,
    consume: Callable[[ByteSource], T],
    *,
    digest: str = "",
    content_digest: str = "",
    verify: bool = True,
    prefetcher: DigestPrefetcher | None = None,
) -> tuple[T, Digests]:
    """Run ``consume`` over the uncompressed bytes of ``blob``, then verify ``digest``
    (sha256 of the stored bytes) and ``content_digest`` (of the uncompressed bytes), and
    return the result with the digests the bytes hashed to (for the layer cache).

    An uncompressed local blob is hashed by ``prefetcher`` (which may have started already),
    else by a prefetcher made for this read. ``verify=False`` is for a worker process
    reading an uncompressed local layer whose digest its parent is computing and checks.
    """
    if isinstance(blob, FileBlob):
        result, found = _read_file_blob(
            blob, label, consume, bool(content_digest), verify, prefetcher
        )
    else:
        with _http_body(blob, label) as raw:
            result, found = read_stream(raw, label, consume, hash_content=bool(content_digest))
    if verify and digest:
        check_digest(label, digest, found.stored)
    if verify and content_digest:
        check_digest(label, content_digest, found.content)
    return result, found


def read_stream(
    raw: Readable, label: str, consume: Callable[[ByteSource], T], *, hash_content: bool = False
) -> tuple[T, Digests]:
    """Run ``consume`` over the uncompressed content of the stream ``raw``, read it to the
    end, and return the result with the digests of what was read."""
    head = raw.read(8)
    reader_class = _PrefetchingHasher if is_compressed(head) else _HashingReader
    stored = reader_class(Prefixed(raw, head))
    decompressed = _decompressor(head, stored, label)
    content: _HashingReader | None = None
    if decompressed is not None and hash_content:
        content = _HashingReader(decompressed)
    reader = content or decompressed or stored
    try:
        result = consume(StreamSource(reader))
        reader.drain()
        stored.drain()
    except (OSError, EOFError, zstandard.ZstdError) as exc:
        raise ImageFormatError(f"{label}: cannot decompress layer: {exc}") from None
    finally:
        if isinstance(stored, _PrefetchingHasher):
            stored.close()
    stored_hex = stored.hasher.hexdigest()
    content_hex = content.hasher.hexdigest() if content else (stored_hex if hash_content else "")
    return result, Digests(stored_hex, content_hex)


def _read_file_blob(
    blob: FileBlob,
    label: str,
    consume: Callable[[ByteSource], T],
    hash_content: bool,
    verify: bool,
    prefetcher: DigestPrefetcher | None,
) -> tuple[T, Digests]:
    try:
        fd = open_descriptor(blob.path, f"{label}: {blob.path}")
    except InputError as exc:
        raise ImageFormatError(exc.message) from None
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(os.close, fd)
        if blob.size == WHOLE_FILE:
            blob = FileBlob(blob.path, 0, os.fstat(fd).st_size)
        head = os.pread(fd, 8, blob.offset)
        if is_compressed(head) or not head:
            return read_stream(
                _FileRange(fd, blob.offset, blob.size), label, consume, hash_content=hash_content
            )
        # Uncompressed: walk the headers in place while the digest is computed on another
        # core (hashlib releases the GIL), so the layer is neither copied nor read twice.
        pending = None
        if verify:
            hasher = prefetcher or cleanup.enter_context(DigestPrefetcher())
            pending = hasher.digest(fd, blob.offset, blob.size)  # the file being walked
        with mmap.mmap(fd, 0, prot=mmap.PROT_READ) as mapped:
            memory = memoryview(mapped)
            try:
                result = consume(WindowSource(memory, blob.offset, blob.size, mapped))
            finally:
                memory.release()
        hashed = pending.result() if pending is not None else ""
        return result, Digests(hashed, hashed if hash_content else "")


def _at_most(chunks: Iterator[bytes], size: int, label: str) -> Iterator[bytes]:
    """``chunks``, refusing more than the ``size`` bytes the manifest declares (0: unknown),
    so an endless answer stops there."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if size and total > size:
            raise ImageFormatError(f"{label}: more than the {size} bytes the manifest declares")
        yield chunk


@contextmanager
def _http_body(blob: HttpBlob, label: str) -> Iterator[ChunkReader]:
    import httpx  # 45 ms to import: only registry scans pay for it

    try:
        with (
            httpx.Client(verify=blob.verify_tls, follow_redirects=True, timeout=60) as client,
            client.stream("GET", blob.url, headers=blob.headers) as response,
        ):
            if response.status_code != 200:
                raise RegistryError(f"{label}: registry answered HTTP {response.status_code}")
            yield ChunkReader(_at_most(response.iter_raw(_CHUNK), blob.size, label))
    except httpx.HTTPError as exc:
        raise RegistryError(f"{label}: download failed: {exc}") from None
