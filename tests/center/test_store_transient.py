"""Which database errors are the database's (a job tries again) and which the data's (the
image is reported as bad): provoked for real on both backends."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from seawall.center.store.database import transient
from tests.center.conftest import both_backends


def _table(url: str) -> Engine:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"))
        connection.execute(text("INSERT INTO t (id, v) VALUES (1, 0), (2, 0)"))
    return engine


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_deadlock_is_transient(database_url: str) -> None:
    engine = _table(database_url)
    locked = threading.Barrier(2)
    errors: list[Exception] = []

    def update(first: int, second: int) -> None:
        try:
            with engine.begin() as connection:
                connection.execute(text("UPDATE t SET v = 1 WHERE id = :i"), {"i": first})
                locked.wait(timeout=10)
                connection.execute(text("UPDATE t SET v = 1 WHERE id = :i"), {"i": second})
        except DBAPIError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=update, args=order) for order in ((1, 2), (2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(errors) == 1, errors  # PostgreSQL broke the deadlock by failing one of them
    assert "deadlock" in str(errors[0])
    assert transient(errors[0])


@both_backends
def test_a_constraint_violation_is_the_data(database_url: str) -> None:
    engine = _table(database_url)
    with pytest.raises(IntegrityError) as caught, engine.begin() as connection:
        connection.execute(text("INSERT INTO t (id, v) VALUES (1, 5)"))
    assert not transient(caught.value)


def test_a_locked_sqlite_database_is_transient(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    engine = _table(url)
    other = create_engine(url, connect_args={"timeout": 0.1})
    with engine.connect() as holder:
        holder.execute(text("BEGIN IMMEDIATE"))
        holder.execute(text("UPDATE t SET v = 2 WHERE id = 1"))
        with pytest.raises(DBAPIError) as caught, other.begin() as connection:
            connection.execute(text("UPDATE t SET v = 3 WHERE id = 1"))
        holder.rollback()
    assert "locked" in str(caught.value)
    assert transient(caught.value)


def test_errors_of_the_program_are_not_the_database() -> None:
    assert not transient(ValueError("bad inventory"))
    assert not transient(LookupError("image 3 was deleted meanwhile"))
