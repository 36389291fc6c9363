"""Connect to the center's database and bring its schema up to date.

SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy timeout, so
readers never wait for the writer and concurrent writers queue instead of failing;
PostgreSQL is reached through pg8000. The schema is Alembic's: :func:`migrate` upgrades to
the newest revision on start-up, the same way on both backends.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, Text, bindparam, cast, create_engine, event, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from seawall.center.store import write_gate
from seawall.errors import EnvironmentFailure

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 16 MB of page cache per connection: the pool holds up to 16 connections, and 64 MB
    # each could take the server past its 500 MB budget under concurrent requests (the OS
    # page cache keeps the rest of a hot database in memory anyway)
    cursor.execute("PRAGMA cache_size=-16384")
    cursor.close()


def _tcp_nodelay(connection: Any, _record: Any) -> None:
    """TCP_NODELAY on pg8000's socket (it does not set it): pg8000 writes a statement's
    messages in several pieces, and with Nagle's algorithm on, the last one of a large
    statement (the findings of a scan, an inventory) waits for the server's delayed ACK,
    40 ms on Linux, every time."""
    sock = getattr(connection, "_usock", None)
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def connect(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///PATH`` or ``postgresql+pg8000://...``)."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=8,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        write_gate.install(engine)
        return engine
    engine = create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)
    event.listen(engine, "connect", _tcp_nodelay)
    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision (a new database gets every table)."""
    try:
        command.upgrade(alembic_config(engine), "head")
    except Exception as exc:
        raise EnvironmentFailure(
            f"cannot prepare the database {engine.url.render_as_string(hide_password=True)}: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            hint="check --database (or that the data directory is writable)",
        ) from None


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits at the end of the block and rolls back on an exception."""
    with factory() as session, session.begin():
        yield session


# SQLSTATEs of a transaction PostgreSQL gave up on that can pass when tried again
# (serialization failure, deadlock, lock not available); pg8000 raises them as
# ProgrammingError, with the code in the error's first argument
_TRANSIENT_STATES = frozenset({"40001", "40P01", "55P03"})
_ARRAY_ROWS = 2_000  # rows of one UPDATE ... FROM unnest(...): bounded statements


def transient(error: Exception) -> bool:
    """Did the database, not the data, make this statement fail (a lock timeout, a
    deadlock, the server gone)? Such work is tried again, not reported as bad."""
    if isinstance(error, OperationalError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    detail = error.orig.args[0] if error.orig is not None and error.orig.args else None
    code = detail.get("C") if isinstance(detail, dict) else getattr(error.orig, "sqlstate", None)
    return code in _TRANSIENT_STATES


def upsert(session: Session, table: Any) -> Any:
    """An INSERT into ``table`` that takes ``on_conflict_do_nothing``/``_do_update`` (the
    dialect's own: both backends have them, SQLAlchemy's core INSERT does not)."""
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def update_rows(
    session: Session, table: Table, key: str, rows: Sequence[Mapping[str, Any]]
) -> None:
    """UPDATE rows of ``table`` found by the column ``key``, each ``rows`` item naming the
    key and the columns to set (rows setting the same columns go together). On PostgreSQL
    in one statement a group (:func:`_update_from_arrays`); elsewhere an executemany. A row
    whose key is gone is skipped (an image deleted meanwhile), not an error as with the
    ORM's bulk update by primary key."""
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    postgres = session.get_bind().dialect.name == "postgresql"
    for names, group in groups.items():
        assigned = [name for name in names if name != key]
        if postgres and len(group) > 1:
            for start in range(0, len(group), _ARRAY_ROWS):
                _update_from_arrays(
                    session, table, key, assigned, group[start : start + _ARRAY_ROWS]
                )
            continue
        session.execute(
            update(table)
            .where(table.c[key] == bindparam("_key"))
            .values({name: bindparam(f"_{name}") for name in assigned}),
            [{"_key": row[key], **{f"_{name}": row[name] for name in assigned}} for row in group],
        )


def _update_from_arrays(
    session: Session, table: Table, key: str, assigned: list[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """``UPDATE ... FROM unnest(...)``: one array a column, each given as the text of a
    PostgreSQL array literal and cast to the column's type. pg8000 runs an executemany as
    a statement per row, each parsed again in Python (storing a re-match's changed
    findings cost a round trip each); a ``VALUES`` list is a new statement for every number
    of rows (SQLAlchemy compiles it again each time). This statement is the same for every
    batch of the same columns."""
    names = [key, *assigned]
    arrays = [cast(bindparam(f"c{i}", type_=Text), ARRAY(Text)) for i in range(len(names))]
    given = func.unnest(*arrays).table_valued(*names).render_derived(name="given")
    session.execute(
        update(table)
        .where(table.c[key] == cast(given.c[key], table.c[key].type))
        .values({name: cast(given.c[name], table.c[name].type) for name in assigned}),
        {f"c{i}": _array_literal(row[name] for row in rows) for i, name in enumerate(names)},
    )


def _array_literal(items: Iterable[Any]) -> str:
    """A PostgreSQL array literal of the text of ``items`` (NULL for None)."""
    return (
        "{" + ",".join("NULL" if item is None else _quoted(_text_of(item)) for item in items) + "}"
    )


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text_of(value: Any) -> str:
    """A value as PostgreSQL reads it from text (the column's CAST turns it back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    return str(value)
