"""The embedded database's write gate: writers of one engine go one at a time, in the order
they came, the gate is handed over when a transaction ends however it ends, and readers
never wait for it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from seawall.center.store.database import connect
from seawall.center.store.write_gate import WriteGate


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = connect(f"sqlite:///{tmp_path / 'gate.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"))
    return engine


def write_gate_of(engine: Engine) -> WriteGate:
    with engine.connect() as connection:
        gate = connection.connection.dbapi_connection.gate  # type: ignore[union-attr]
    assert isinstance(gate, WriteGate)
    return gate


def test_waiters_get_the_gate_in_the_order_they_came() -> None:
    gate = WriteGate()
    assert gate.acquire()
    order: list[int] = []

    def write(number: int) -> None:
        gate.acquire()
        order.append(number)
        gate.release()

    threads = []
    for number in range(5):
        thread = threading.Thread(target=write, args=(number,))
        thread.start()
        threads.append(thread)
        while len(gate._waiting) <= number:  # (queued before the next one comes)
            time.sleep(0.001)
    gate.release()
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]
    assert gate.acquire(timeout=0)  # open again once the last one released it


def test_a_waiter_that_gives_up_leaves_the_queue() -> None:
    gate = WriteGate()
    assert gate.acquire()
    assert not gate.acquire(timeout=0.05)
    gate.release()
    assert gate.acquire(timeout=0)  # not handed to the waiter that left


def test_a_write_transaction_holds_the_gate_until_it_ends(engine: Engine) -> None:
    gate = write_gate_of(engine)
    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM t"))
        assert gate.acquire(timeout=0)  # reading took nothing
        gate.release()
        connection.execute(text("INSERT INTO t (v) VALUES (1)"))
        assert not gate.acquire(timeout=0)
        connection.commit()
        assert gate.acquire(timeout=0)
        gate.release()
        connection.execute(text("UPDATE t SET v = 2"))
        assert not gate.acquire(timeout=0)
        connection.rollback()
        assert gate.acquire(timeout=0)
        gate.release()
        connection.execute(text("DELETE FROM t"))
    assert gate.acquire(timeout=0)  # given back when the connection went back to the pool


def test_a_second_writer_waits_for_the_first_and_then_goes_in(engine: Engine) -> None:
    gate = write_gate_of(engine)
    done: list[str] = []

    def second() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t (v) VALUES (2)"))
        done.append("second")

    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t (v) VALUES (1)"))
        thread = threading.Thread(target=second)
        thread.start()
        while not gate._waiting:  # (the second writer is queued at the gate)
            time.sleep(0.001)
        done.append("first")
    thread.join(timeout=10)
    assert done == ["first", "second"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT v FROM t ORDER BY id")).scalars().all() == [1, 2]
