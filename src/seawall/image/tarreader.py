"""A fast, read-only tar reader for image layers and image archives.

Why not :mod:`tarfile`: on a real 5 GB layer with 144,597 entries, iterating ``tarfile`` takes
5.4 s seekable and 17 s streamed on this hardware, most of it in per-member Python overhead.
Image inventory only needs each entry's name, type, size, mode and link target, and the content
of a few files, so this reader parses just that (ustar, GNU long names, PAX ``path``/``linkpath``/
``size`` records, base-256 sizes) straight from 512-byte headers: about ten times faster.

It never writes anything and never follows links; callers decide what an entry means.
Malformed input raises :class:`~seawall.errors.ImageFormatError`.
"""

from __future__ import annotations

import io
import mmap
import posixpath
from collections.abc import Iterator
from typing import Protocol

from seawall.errors import ImageFormatError, UnsafeInputError

BLOCK = 512
# A PAX or GNU long-name record longer than this is hostile, not a real path.
MAX_META_SIZE = 1024 * 1024
# Linux's PATH_MAX: a longer entry name cannot be created when a layer is applied, and every
# per-component walk over one (visibility, symlinks) would cost its length squared.
MAX_PATH_LENGTH = 4096

REGULAR = "0"
HARDLINK = "1"
SYMLINK = "2"
DIRECTORY = "5"
_REGULAR_TYPES = frozenset(("0", "\x00", "7"))
_META_TYPES = frozenset(("L", "K", "x", "g"))
_LINK_TYPES = frozenset((HARDLINK, SYMLINK))
_SUSPICIOUS_START = frozenset(("", ".", "/"))


class Readable(Protocol):
    """Anything with ``read(size)`` returning bytes (a file, a decompressor, an HTTP body)."""

    def read(self, size: int = -1, /) -> bytes: ...


class ByteSource(Protocol):
    """Where the reader gets bytes: a stream it reads through or a file window it seeks in."""

    def read(self, size: int) -> bytes:
        """Return up to ``size`` bytes; fewer only at the end."""

    def skip(self, size: int) -> None:
        """Move ``size`` bytes forward without returning them."""

    def tell(self) -> int:
        """Offset of the next byte, from the start of the source."""


class StreamSource:
    """Reads a non-seekable binary stream (a decompressor, an HTTP body) with a large buffer."""

    def __init__(self, stream: Readable, chunk_size: int = 1 << 20) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        self._buffer = b""
        self._pos = 0  # position inside _buffer
        self._consumed = 0  # bytes of the stream before _buffer

    def _fill(self, wanted: int) -> None:
        parts = [self._buffer[self._pos :]]
        have = len(parts[0])
        self._consumed += self._pos
        while have < wanted:
            chunk = self._stream.read(max(self._chunk_size, wanted - have))
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        self._buffer = b"".join(parts)
        self._pos = 0

    def read(self, size: int) -> bytes:
        if len(self._buffer) - self._pos < size:
            self._fill(size)
        data = self._buffer[self._pos : self._pos + size]
        self._pos += len(data)
        return data

    def skip(self, size: int) -> None:
        available = len(self._buffer) - self._pos
        if size <= available:
            self._pos += size
            return
        size -= available
        self._consumed += len(self._buffer)
        self._buffer = b""
        self._pos = 0
        while size > 0:
            chunk = self._stream.read(min(size, self._chunk_size))
            if not chunk:
                return
            size -= len(chunk)
            self._consumed += len(chunk)

    def tell(self) -> int:
        return self._consumed + self._pos


class WindowSource:
    """Reads the byte range ``[start, start + size)`` of a memory-mapped file: skipping is
    free, so walking a layer stored uncompressed inside an archive touches only its headers.

    With ``mapped`` given, pages already walked past are dropped from the process's resident
    memory every :data:`RELEASE_STEP` bytes (they stay in the page cache).
    """

    RELEASE_STEP = 64 << 20

    def __init__(
        self, memory: memoryview, start: int, size: int, mapped: mmap.mmap | None = None
    ) -> None:
        self.memory = memory
        self._start = start
        self._end = min(start + size, len(memory))
        self._pos = start
        self._mapped = mapped
        self._released = start - start % mmap.PAGESIZE

    def _release(self) -> None:
        if self._mapped is not None and self._pos - self._released >= self.RELEASE_STEP:
            upto = self._pos - self._pos % mmap.PAGESIZE
            self._mapped.madvise(mmap.MADV_DONTNEED, self._released, upto - self._released)
            self._released = upto

    def read(self, size: int) -> bytes:
        end = min(self._pos + max(size, 0), self._end)
        data = bytes(self.memory[self._pos : end])
        self._pos = end
        return data

    def skip(self, size: int) -> None:
        self._pos = min(self._pos + size, self._end)
        self._release()

    def tell(self) -> int:
        return self._pos - self._start

    def absolute(self, offset: int) -> int:
        """The position in the mapped file of ``offset`` in this window."""
        return self._start + offset


class MemoryFile(io.RawIOBase):
    """A seekable read-only file over a slice of memory (a file inside a mapped layer)."""

    def __init__(self, memory: memoryview) -> None:
        super().__init__()
        self._memory = memory
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self._memory[self._pos : self._pos + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def read(self, size: int = -1) -> bytes:
        end = len(self._memory) if size is None or size < 0 else self._pos + size
        data = bytes(self._memory[self._pos : end])
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._memory)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._memory.release()
        super().close()


class TarEntry:
    """One member of a tar archive. ``offset`` is where its content starts in the source."""

    __slots__ = ("linkname", "mode", "name", "offset", "size", "type")

    def __init__(
        self, name: str, type_: str, size: int, mode: int, linkname: str, offset: int
    ) -> None:
        self.name = name
        self.type = type_
        self.size = size
        self.mode = mode
        self.linkname = linkname
        self.offset = offset

    @property
    def is_file(self) -> bool:
        return self.type in _REGULAR_TYPES

    def __repr__(self) -> str:
        return f"TarEntry({self.name!r}, type={self.type!r}, size={self.size})"


def _octal(field: bytes, what: str) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256 for sizes over 8 GiB
        if field[0] & 0x40:
            raise ImageFormatError(f"tar header has a negative {what}")
        return int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
    text = field.split(b"\x00", 1)[0].strip(b" \x00")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise ImageFormatError(f"tar header has an invalid {what} field {text[:20]!r}") from None


def _number(header: bytes, start: int, length: int, what: str) -> int:
    """A numeric header field: the common octal-digits case fast, anything else by _octal."""
    field = header[start : start + length - 1]
    if field.isdigit():
        try:
            return int(field, 8)
        except ValueError:
            pass  # digits 8 or 9: let _octal report it
    return _octal(header[start : start + length], what)


def _checksum_ok(header: bytes) -> bool:
    try:
        stored = _octal(header[148:156], "checksum")
    except ImageFormatError:
        return False
    return stored == sum(header[:148]) + sum(header[156:]) + 256


def _decode(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")


def _parse_pax(data: bytes) -> dict[str, str]:
    """Parse PAX extended header records ``"<len> <key>=<value>\\n"``."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:
            break
        space = data.find(b" ", pos)
        if space < 0:
            raise ImageFormatError("malformed PAX header record")
        try:
            length = int(data[pos:space])
        except ValueError:
            raise ImageFormatError("malformed PAX header record length") from None
        end = pos + length
        if length <= 0 or end > len(data) or space >= end:
            raise ImageFormatError("PAX header record length out of range")
        key, _, value = data[space + 1 : end - 1].partition(b"=")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos = end
    return records


def iter_tar(source: ByteSource, *, max_entries: int = 10_000_000) -> Iterator[TarEntry]:
    """Yield every entry of the tar archive in ``source``, in order.

    The caller may read ``entry.size`` bytes of content right after an entry is yielded
    (``source.read``); whatever it leaves unread is skipped before the next header.
    Raises :class:`ImageFormatError` on corruption or truncation.
    """
    long_name: str | None = None
    long_link: str | None = None
    pax: dict[str, str] = {}
    count = 0
    while True:
        header_at = source.tell()
        header = source.read(BLOCK)
        if len(header) < BLOCK:
            if not header and count:
                return  # some writers omit the end-of-archive blocks
            raise ImageFormatError("tar archive is truncated (incomplete header)")
        if header[0] == 0 and header.count(0) == BLOCK:
            return
        # The checksum costs a third of the parse time; a ustar magic is as good a sign that
        # this is a header, so the sum is only checked for old-style headers without it.
        if header[257:262] != b"ustar" and not _checksum_ok(header):
            what = "not a tar archive" if count == 0 else "tar header checksum mismatch"
            raise ImageFormatError(f"{what} (at byte {header_at})")
        count += 1
        if count > max_entries:
            raise UnsafeInputError(f"tar archive has more than {max_entries} entries")
        type_ = chr(header[156]) if header[156] else "0"
        size = _number(header, 124, 12, "size")
        if type_ in _META_TYPES:
            if size > MAX_META_SIZE:
                raise UnsafeInputError(f"tar metadata record of {size} bytes")
            data = source.read(size)
            if len(data) < size:
                raise ImageFormatError("tar archive is truncated (metadata record)")
            source.skip(-size % BLOCK)
            if type_ == "L":
                long_name = _decode(data)
            elif type_ == "K":
                long_link = _decode(data)
            elif type_ == "x":
                pax = _parse_pax(data)
            continue
        name = _decode(header[0:100])
        if header[257:263] == b"ustar\x00" and header[345]:
            name = _decode(header[345:500]) + "/" + name
        linkname = _decode(header[157:257]) if type_ in _LINK_TYPES else ""
        if long_name is not None:
            name, long_name = long_name, None
        if long_link is not None:
            linkname, long_link = long_link, None
        if pax:
            name = pax.get("path", name)
            linkname = pax.get("linkpath", linkname)
            if "size" in pax:
                try:
                    size = int(pax["size"])
                except ValueError:
                    raise ImageFormatError("tar PAX size is not a number") from None
            pax = {}
        if type_ in (HARDLINK, SYMLINK, DIRECTORY, "3", "4", "6"):
            size = 0 if type_ != HARDLINK else size
        offset = source.tell()
        entry = TarEntry(name, type_, size, _number(header, 100, 8, "mode"), linkname, offset)
        yield entry
        end = offset + size + (-size % BLOCK)
        position = source.tell()
        if position > offset + size:
            raise ImageFormatError("tar entry content was over-read")
        source.skip(end - position)
        if source.tell() < end:
            raise ImageFormatError(f"tar archive is truncated inside {name!r}")


def read_entry(source: ByteSource, entry: TarEntry, limit: int) -> bytes:
    """Read the whole content of ``entry`` (just yielded) if it is at most ``limit`` bytes."""
    if entry.size > limit:
        raise UnsafeInputError(f"{entry.name}: {entry.size} bytes is over the {limit} limit")
    data = source.read(entry.size)
    if len(data) < entry.size:
        raise ImageFormatError(f"tar archive is truncated inside {entry.name!r}")
    return data


def safe_member_path(name: str) -> str:
    """The root-relative, normalised path of a tar entry ('' for the root itself).

    Raises :class:`UnsafeInputError` for absolute names, names that leave the root and names
    longer than :data:`MAX_PATH_LENGTH`: image tars never contain them (a runtime could not
    create such a path), so one that does is hostile.
    """
    if len(name) > MAX_PATH_LENGTH:
        raise UnsafeInputError(
            f"tar entry {name[:100]!r}... is {len(name)} characters long;"
            f" no file system path is longer than {MAX_PATH_LENGTH}"
        )
    if name[:1] not in _SUSPICIOUS_START and "/." not in name and "//" not in name:
        return name[:-1] if name.endswith("/") else name  # already normal: the common case
    if name.startswith("/") or "\x00" in name:
        raise UnsafeInputError(f"tar entry {name[:200]!r} has an absolute path")
    normalized = posixpath.normpath(name) if name else "."
    if normalized == ".." or normalized.startswith("../"):
        raise UnsafeInputError(f"tar entry {name[:200]!r} leaves the root")
    return "" if normalized == "." else normalized
