"""The three rpm database backends, reduced to "iterate over the stored header blobs".

* SQLite (``rpmdb.sqlite``, rpm >= 4.16, Fedora 33+, RHEL 9): table ``Packages(hnum, blob)``.
  :mod:`sqlite3` needs a file, so the content is copied to a temporary file, opened
  read-only and immutable, and deleted as soon as it is open.
* Berkeley DB hash (``Packages``, RHEL/CentOS <= 8, Amazon Linux 2): parsed in pure Python,
  page by page. Each value is either on the hash page or, for big headers (almost all), in a
  chain of overflow pages.
* NDB (``Packages.db``, rpm's own format, SUSE): a slot table of (package index, block
  offset, block count) entries pointing at length-prefixed blobs.

The file is read through seek/read with every loop bounded by the file size, so hostile input
raises ValueError (or yields fewer blobs with warnings) instead of hanging or exhausting memory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import struct
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

SQLITE_MAGIC = b"SQLite format 3\x00"
NDB_MAGIC = b"RpmP"
BDB_HASH_MAGIC = 0x00061561

_MAX_BLOB = 257 * 1024 * 1024  # rpm's 256 MiB data limit plus the index
_SQLITE_STEPS = 50_000_000  # sqlite virtual machine steps before giving up on a file
_SQLITE_CHECK_EVERY = 1000


def detect(data: BinaryIO) -> str:
    """Name the backend of an rpm database from its first bytes: sqlite, bdb or ndb."""
    data.seek(0)
    head = data.read(32)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(NDB_MAGIC):
        return "ndb"
    if len(head) >= 16 and BDB_HASH_MAGIC in (
        struct.unpack_from("<I", head, 12)[0],
        struct.unpack_from(">I", head, 12)[0],
    ):
        return "bdb"
    raise ValueError("not an rpm database (unknown magic)")


def _size(data: BinaryIO) -> int:
    return data.seek(0, os.SEEK_END)


def _read_at(data: BinaryIO, offset: int, length: int) -> bytes:
    data.seek(offset)
    chunk = data.read(length)
    if len(chunk) != length:
        raise ValueError("rpm database: truncated")
    return chunk


# --- SQLite ------------------------------------------------------------------------------


def iter_sqlite(data: BinaryIO, warnings: list[str]) -> Iterator[bytes]:
    """Blobs of the ``Packages`` table, in installation order, one at a time.

    The content is copied to a temporary file (sqlite needs one), opened read-only and
    immutable, and the file is deleted as soon as sqlite has it open, so nothing is left
    behind whatever happens next. ``Packages`` must be a real table: a view, or a generated
    column, could compute rows (``zeroblob(1e9)``) that no file holds. Every blob's length
    is checked before it is read: stored blobs cannot hold more bytes than the file, and
    sqlite itself refuses any value over :data:`_MAX_BLOB`.
    """
    budget = _size(data)
    with _open_copy(data) as conn:
        try:
            _check_packages_table(conn)
            rows = conn.execute(
                "SELECT CASE WHEN typeof(blob) = 'blob' AND length(blob) <= ? THEN blob END,"
                " typeof(blob), length(blob) FROM Packages ORDER BY hnum",
                (budget,),
            )
            for blob, kind, length in rows:
                if kind != "blob":
                    warnings.append("rpm sqlite database: non-blob row skipped")
                    continue
                budget -= length
                if blob is None or budget < 0:
                    raise ValueError("rpm sqlite database: rows hold more data than the file")
                yield blob
        except sqlite3.Error as exc:
            raise ValueError(f"rpm sqlite database: {exc}") from exc


def _check_packages_table(conn: sqlite3.Connection) -> None:
    """ValueError unless ``Packages`` is a plain table: no view, virtual table or generated
    column, whose values would be computed rather than stored."""
    schema = conn.execute(
        "SELECT type, sql FROM sqlite_master WHERE name = 'Packages' COLLATE NOCASE"
    ).fetchall()
    if len(schema) != 1 or schema[0][0] != "table" or "VIRTUAL" in str(schema[0][1]).upper():
        raise ValueError("rpm sqlite database: Packages is not a plain table")
    if any(column[6] for column in conn.execute("PRAGMA table_xinfo(Packages)")):
        raise ValueError("rpm sqlite database: Packages has computed columns")


@contextlib.contextmanager
def _open_copy(data: BinaryIO) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a copy of ``data`` that no longer has a name."""
    data.seek(0)
    with tempfile.NamedTemporaryFile(prefix="seawall-rpmdb-", suffix=".sqlite") as handle:
        shutil.copyfileobj(data, handle, 1024 * 1024)
        handle.flush()
        conn = sqlite3.connect(f"file:{handle.name}?mode=ro&immutable=1", uri=True)
    # Leaving the block deleted the copy; the connection holds it open until closed.
    with contextlib.closing(conn):
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, _MAX_BLOB)
        steps = 0

        def over_budget() -> bool:
            nonlocal steps
            steps += _SQLITE_CHECK_EVERY
            return steps > _SQLITE_STEPS

        conn.set_progress_handler(over_budget, _SQLITE_CHECK_EVERY)
        yield conn


# --- Berkeley DB hash --------------------------------------------------------------------

_P_HASH_UNSORTED = 2
_P_OVERFLOW = 7
_P_HASHMETA = 8
_P_HASH = 13
_H_KEYDATA = 1
_H_OFFPAGE = 3
_PAGE_HEADER = 26  # SIZEOF_PAGE in db_page.h
_CHKSUM_HEADER = 32  # SIZEOF_PAGE + sizeof(PG_CHKSUM), for databases with page checksums
_DBMETA_CHKSUM = 0x01


class _BdbFile:
    """Page access to a Berkeley DB hash file."""

    def __init__(self, data: BinaryIO) -> None:
        self.data = data
        self.file_size = _size(data)
        meta = _read_at(data, 0, 72)
        if struct.unpack_from("<I", meta, 12)[0] == BDB_HASH_MAGIC:
            self.order = "<"
        elif struct.unpack_from(">I", meta, 12)[0] == BDB_HASH_MAGIC:
            self.order = ">"
        else:
            raise ValueError("Berkeley DB: not a hash database")
        o = self.order
        self.page_size = struct.unpack_from(o + "I", meta, 20)[0]
        encrypt_alg, page_type, meta_flags = meta[24], meta[25], meta[26]
        if page_type != _P_HASHMETA:
            raise ValueError("Berkeley DB: first page is not hash metadata")
        if encrypt_alg:
            raise ValueError("Berkeley DB: encrypted database")
        if self.page_size < 512 or self.page_size > 65536 or self.page_size & (self.page_size - 1):
            raise ValueError(f"Berkeley DB: bad page size {self.page_size}")
        self.overhead = _CHKSUM_HEADER if meta_flags & _DBMETA_CHKSUM else _PAGE_HEADER
        last_pgno = struct.unpack_from(o + "I", meta, 32)[0]
        self.page_count = min(last_pgno + 1, self.file_size // self.page_size)
        # Overflow chains may be shared or looped by a hostile file: cap the bytes they yield.
        self.overflow_budget = 4 * self.file_size + 1024 * 1024

    def page(self, pgno: int) -> bytes:
        if not 0 < pgno < self.page_count:
            raise ValueError(f"Berkeley DB: page {pgno} out of range")
        return _read_at(self.data, pgno * self.page_size, self.page_size)

    def overflow(self, pgno: int, total: int) -> bytes:
        """The ``total`` bytes stored in the overflow chain starting at ``pgno``."""
        if total > _MAX_BLOB or total > self.overflow_budget:
            raise ValueError("Berkeley DB: overflow item too large")
        self.overflow_budget -= total
        o = self.order
        parts: list[bytes] = []
        have = 0
        space = self.page_size - self.overhead
        for _ in range(total // max(space, 1) + 2):
            page = self.page(pgno)
            if page[25] != _P_OVERFLOW:
                raise ValueError("Berkeley DB: broken overflow chain")
            length = struct.unpack_from(o + "H", page, 22)[0]  # HOFFSET holds the used length
            if length > space:
                raise ValueError("Berkeley DB: bad overflow page length")
            parts.append(page[self.overhead : self.overhead + length])
            have += length
            pgno = struct.unpack_from(o + "I", page, 16)[0]  # next_pgno
            if have >= total or pgno == 0:
                break
        if have != total:
            raise ValueError("Berkeley DB: overflow chain length mismatch")
        return b"".join(parts)

    def items(self, page: bytes) -> list[tuple[int, int]]:
        """(start, end) of every item on a hash page, in index order."""
        o = self.order
        entries = struct.unpack_from(o + "H", page, 20)[0]
        table_end = self.overhead + 2 * entries
        if table_end > self.page_size:
            raise ValueError("Berkeley DB: too many entries on a page")
        offsets = struct.unpack_from(f"{o}{entries}H", page, self.overhead)
        spans: list[tuple[int, int]] = []
        end = self.page_size
        for start in offsets:
            if not table_end <= start < end:
                raise ValueError("Berkeley DB: bad item offset")
            spans.append((start, end))
            end = start
        return spans


def iter_bdb(data: BinaryIO, warnings: list[str]) -> Iterator[bytes]:
    """Values of a Berkeley DB hash database (rpm's ``Packages``), skipping record 0."""
    db = _BdbFile(data)
    o = db.order
    for pgno in range(1, db.page_count):
        page = db.page(pgno)
        if page[25] not in (_P_HASH, _P_HASH_UNSORTED):
            continue
        try:
            spans = db.items(page)
        except ValueError as exc:
            warnings.append(f"page {pgno}: {exc}")
            continue
        for key_span, value_span in zip(spans[0::2], spans[1::2], strict=False):
            key = page[key_span[0] : key_span[1]]
            if key[:1] == bytes((_H_KEYDATA,)) and key[1:5] == b"\0\0\0\0":
                continue  # record 0 holds rpm's next instance number, not a header
            start, end = value_span
            kind = page[start]
            try:
                if kind == _H_KEYDATA:
                    yield page[start + 1 : end]
                elif kind == _H_OFFPAGE and end - start >= 12:
                    first, total = struct.unpack_from(o + "II", page, start + 4)
                    yield db.overflow(first, total)
                else:
                    warnings.append(f"page {pgno}: unsupported item type {kind} skipped")
            except ValueError as exc:
                warnings.append(f"page {pgno}: {exc}")


# --- NDB ---------------------------------------------------------------------------------

_NDB_HEADER = 32
_NDB_PAGE = 4096
_NDB_SLOT = 16
_NDB_BLK = 16
_NDB_SLOT_MAGIC = b"Slot"
_NDB_BLOB_MAGIC = b"BlbS"
_NDB_BLOB_HEAD = 16
_NDB_BLOB_TAIL = 12


def iter_ndb(data: BinaryIO, warnings: list[str]) -> Iterator[bytes]:
    """Blobs of an NDB ``Packages.db``, in slot order."""
    file_size = _size(data)
    header = _read_at(data, 0, _NDB_HEADER)
    magic, version, _generation, slot_pages = struct.unpack_from("<4sIII", header)
    if magic != NDB_MAGIC or version != 0:
        raise ValueError("NDB: bad magic or version")
    if slot_pages == 0 or slot_pages * _NDB_PAGE > file_size:
        raise ValueError("NDB: slot pages beyond the end of the file")
    slots = _read_at(data, 0, slot_pages * _NDB_PAGE)
    first_blk = slot_pages * _NDB_PAGE // _NDB_BLK
    file_blks = file_size // _NDB_BLK
    # Slots of a hostile file may all point at one big blob: cap the bytes they yield.
    budget = 4 * file_size + 1024 * 1024
    for offset in range(_NDB_HEADER, len(slots), _NDB_SLOT):
        magic, pkgidx, blkoff, blkcnt = struct.unpack_from("<4sIII", slots, offset)
        if magic != _NDB_SLOT_MAGIC:
            raise ValueError("NDB: bad slot magic")
        if blkoff == 0:
            continue  # free slot
        if not pkgidx or blkoff < first_blk or blkoff + blkcnt > file_blks:
            warnings.append(f"NDB: bad slot for package index {pkgidx} skipped")
            continue
        head = _read_at(data, blkoff * _NDB_BLK, _NDB_BLOB_HEAD)
        blob_magic, blob_pkgidx, _tstamp, length = struct.unpack("<4sIII", head)
        if blob_magic != _NDB_BLOB_MAGIC or blob_pkgidx != pkgidx:
            warnings.append(f"NDB: bad blob for package index {pkgidx} skipped")
            continue
        if length > blkcnt * _NDB_BLK - _NDB_BLOB_HEAD - _NDB_BLOB_TAIL:
            warnings.append(f"NDB: blob of package index {pkgidx} overflows its slot")
            continue
        budget -= length
        if budget < 0:
            raise ValueError("NDB: slots point at more data than the file holds")
        yield _read_at(data, blkoff * _NDB_BLK + _NDB_BLOB_HEAD, length)


BACKENDS = {"sqlite": iter_sqlite, "bdb": iter_bdb, "ndb": iter_ndb}
