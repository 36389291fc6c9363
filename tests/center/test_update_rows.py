"""``update_rows`` writes exactly the values given, whatever their text: on PostgreSQL they
travel as array literals (quotes, backslashes, braces, commas, NULL-looking text, unicode),
so the round trip is checked on random rows on both backends."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from seawall.center.store.database import update_rows
from tests.center.conftest import both_backends

METADATA = MetaData()
ROWS = Table(
    "rows",
    METADATA,
    Column("id", BigInteger, primary_key=True),
    Column("name", String(300)),
    Column("flag", Boolean),
    Column("seen", DateTime(timezone=True)),
    Column("data", JSON().with_variant(postgresql.JSONB(), "postgresql")),
    Column("blob", LargeBinary),
)
TEXT = st.text(
    alphabet=st.sampled_from(['"', "\\", "{", "}", ",", " ", "'", "N", "U", "L", "é", "\t", "a"])
    | st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"),
    max_size=40,
)
TIMES = st.datetimes(
    min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)
VALUES = st.fixed_dictionaries(
    {
        "name": st.none() | TEXT | st.just("NULL"),
        "flag": st.none() | st.booleans(),
        "seen": st.none() | TIMES,
        "data": st.none() | st.dictionaries(TEXT, st.none() | TEXT | st.integers(), max_size=3),
        "blob": st.none() | st.binary(max_size=20),
    }
)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    METADATA.create_all(engine)
    yield engine
    engine.dispose()


@both_backends
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.lists(VALUES, min_size=1, max_size=8), columns=st.sets(st.sampled_from(
    ["name", "flag", "seen", "data", "blob"]), min_size=1))  # fmt: skip
def test_every_value_round_trips(
    engine: Engine, changes: list[dict[str, object]], columns: set[str]
) -> None:
    first = uuid.uuid4().int % 10**12
    ids = [first + n for n in range(len(changes))]
    with Session(engine) as session, session.begin():
        session.execute(insert(ROWS), [{"id": i, "name": "before"} for i in ids])
    rows = [
        {"id": i, **{c: change[c] for c in columns}} for i, change in zip(ids, changes, strict=True)
    ]
    with Session(engine) as session, session.begin():
        update_rows(session, ROWS, "id", [*rows, {"id": -1, **{c: None for c in columns}}])  # gone
    with Session(engine) as session:
        stored = {row.id: row for row in session.execute(select(ROWS).where(ROWS.c.id.in_(ids)))}
    for row in rows:
        for column in columns:
            got = getattr(stored[row["id"]], column)
            if column == "seen" and got is not None and got.tzinfo is None:  # SQLite keeps no zone
                got = got.replace(tzinfo=dt.UTC)
            assert got == row[column], (column, row[column], got)
        if "name" not in columns:
            assert stored[row["id"]].name == "before"  # what was not named stays
