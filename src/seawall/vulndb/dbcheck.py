"""Checking an advisory database file before trusting SQLite with it.

An advisory database can come from anywhere (``db import`` of a bundle, ``--db``), and
SQLite executes part of a file's schema when it reads: a view or a column default can turn a
28 KB file into gigabytes (``zeroblob``), a trigger or an expression index runs code, and a
forged header makes SQLite trust sizes that are not there. So, in order:

- the path is a regular file within the ``DATABASE`` cap (:mod:`seawall.safety.limits`);
- its 100-byte header is sane: the magic, a page size that is a power of two from 512 to
  65,536, the fixed payload fractions, UTF-8, a file that is whole pages, and a page count
  (when the header vouches for it) that the file holds;
- it is opened read-only and immutable, with SQLite's limits lowered: no value longer than
  the ``DATABASE_ROW`` cap (reading one is an error, not an allocation), no ATTACH, no
  memory-mapped I/O, a schema that is not trusted to call functions, and text that is not
  UTF-8 an error like any other;
- its schema is exactly the expected one: the same tables with the same columns (names,
  types, defaults, keys, no generated columns), their automatic indexes and nothing else: no
  view, trigger, virtual, extra table or index;
- a bundle (read whole by ``db import``) also passes ``PRAGMA quick_check``.

Every problem is a :class:`DatabaseRefused` naming it; the store reports it as a corrupt
database.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import struct
from pathlib import Path
from typing import Any
from urllib.parse import quote

from seawall.errors import InputError
from seawall.safety.files import open_regular
from seawall.safety.limits import max_bytes

HEADER_BYTES = 100
MAGIC = b"SQLite format 3\x00"
_UTF8 = 1


# What reading a damaged file can raise: SQLite's errors, and Python's when SQLite's message
# quotes bytes of the file that are not UTF-8 (a damaged name in the schema)
DB_ERRORS = (sqlite3.DatabaseError, UnicodeDecodeError)


class DatabaseRefused(ValueError):
    """The file is not an advisory database Seawall reads safely."""


def check_header(path: Path) -> None:
    """Refuse a file that is not a regular file within the cap with a sane SQLite header."""
    limit = max_bytes("DATABASE")
    try:
        with open_regular(path) as stream:
            size = os.fstat(stream.fileno()).st_size
            header = stream.read(HEADER_BYTES)
    except InputError as exc:
        raise DatabaseRefused(exc.message.removeprefix(f"{path}: ")) from None
    if size > limit:
        raise DatabaseRefused(f"larger than {limit} bytes ({size})")
    if len(header) < HEADER_BYTES or not header.startswith(MAGIC):
        raise DatabaseRefused("not an SQLite file")
    (page_size,) = struct.unpack_from(">H", header, 16)
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise DatabaseRefused(f"page size {page_size} is not a power of two from 512 to 65536")
    if header[21:24] != b"\x40\x20\x20":
        raise DatabaseRefused("payload fractions are not SQLite's fixed 64/32/32")
    (encoding,) = struct.unpack_from(">I", header, 56)
    if encoding != _UTF8:
        raise DatabaseRefused(f"text encoding {encoding} is not UTF-8")
    if size % page_size:
        raise DatabaseRefused(f"{size} bytes is not a whole number of {page_size}-byte pages")
    changes, pages = struct.unpack_from(">II", header, 24)
    (valid_for,) = struct.unpack_from(">I", header, 92)
    if pages and changes == valid_for and pages * page_size > size:
        raise DatabaseRefused(f"the header claims {pages} pages of {page_size} bytes")


def _layout(connection: sqlite3.Connection) -> dict[str, Any]:
    """What the schema check compares: every schema object (type, name, table, and whether
    it is made by SQL of its own: an index that is not automatic, a virtual table) and every
    table's columns as ``table_xinfo`` describes them."""
    objects = sorted(
        (str(kind), str(name), str(table), _made_by_hand(str(kind), sql))
        for kind, name, table, sql in connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master"
        )
    )
    columns = {
        name: connection.execute("SELECT * FROM pragma_table_xinfo(?)", (name,)).fetchall()
        for kind, name, _, _ in objects
        if kind == "table"
    }
    return {"objects": objects, "columns": columns}


def _made_by_hand(kind: str, sql: object) -> bool:
    if kind == "index":
        return sql is not None
    return isinstance(sql, str) and sql.lstrip()[:14].upper() == "CREATE VIRTUAL"


@functools.cache
def _expected(schema: str) -> dict[str, Any]:
    with contextlib.closing(sqlite3.connect(":memory:")) as reference:
        reference.executescript(schema)
        return _layout(reference)


def _check_schema(connection: sqlite3.Connection, schema: str) -> None:
    actual, expected = _layout(connection), _expected(schema)
    extra = sorted(set(actual["objects"]) - set(expected["objects"]))
    missing = sorted(set(expected["objects"]) - set(actual["objects"]))
    if extra:
        kind, name, _, _ = extra[0]
        raise DatabaseRefused(f"unexpected {kind} {name!r} in the schema")
    if missing:
        kind, name, _, _ = missing[0]
        raise DatabaseRefused(f"no {kind} {name!r} in the schema")
    for table, columns in expected["columns"].items():
        if actual["columns"][table] != columns:
            raise DatabaseRefused(f"table {table!r} does not have the expected columns")


def _text(data: bytes) -> str:
    """Text values as str; bytes that are not UTF-8 are a database error, not a crash."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise sqlite3.DataError("a text value that is not UTF-8") from None


def quick_check(connection: sqlite3.Connection) -> None:
    """SQLite's own walk over every page (``PRAGMA quick_check``): for a bundle about to be
    copied whole, where its cost (linear in the file) is paid once."""
    try:
        problems = [str(row[0]) for row in connection.execute("PRAGMA quick_check(5)")]
    except DB_ERRORS as exc:
        raise DatabaseRefused(str(exc)) from None
    if problems != ["ok"]:
        raise DatabaseRefused("; ".join(problems)[:300])


def open_database(path: Path, schema: str) -> sqlite3.Connection:
    """A read-only connection to the advisory database ``path``, checked as the module
    says against ``schema`` (the SQL that creates an empty one); DatabaseRefused if not."""
    check_header(path)
    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
    connection.text_factory = _text
    try:
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max_bytes("DATABASE_ROW"))
        connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        connection.execute("PRAGMA trusted_schema = OFF")
        connection.execute("PRAGMA mmap_size = 0")
        connection.execute("PRAGMA cell_size_check = ON")
        _check_schema(connection, schema)
    except (*DB_ERRORS, DatabaseRefused) as exc:
        connection.close()
        raise DatabaseRefused(str(exc)) from None
    return connection
