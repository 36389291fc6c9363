"""One writer at a time on the embedded SQLite database, handed over in arrival order.

SQLite lets one transaction write at a time; the others wait in its busy handler, which
sleeps in growing steps (up to 100 ms) and does not notice the lock being freed meanwhile.
With a re-match storing an image every few milliseconds, the API's ingest then waited a
sleep step or several for each of them (p95 of several hundred milliseconds). Every writer
of one engine therefore first takes this gate, a first-come first-served lock handed to the
next waiter the moment a transaction ends: the wait is the other transactions' length, no
more. It is the engine's (no process-wide state); SQLite's own lock and busy timeout still
guard against other processes, and against a waiter the gate gave up on after
:data:`WAIT`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import deque
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)
WAIT = 30.0  # seconds a writer waits for the gate, as long as SQLite's busy timeout
# statements that start a write transaction (Python's sqlite3 begins one before these)
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriteGate:
    """A lock granted in the order it was asked for (``threading.Lock`` is not fair: a job
    storing image after image would take it back before a waiting ingest woke up)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Event] = deque()

    def acquire(self, timeout: float = WAIT) -> bool:
        """Wait for the gate; False when ``timeout`` passed first (the caller goes on without
        it, as before the gate: SQLite's busy handler then decides)."""
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait ended: it is ours
                return True
            self._waiting.remove(turn)
        log.warning("waited %.0f s for the database's write gate; going on without it", timeout)
        return False

    def release(self) -> None:
        """Hand the gate to the longest waiter, or open it."""
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()  # still held: now by that waiter
            else:
                self._held = False


def install(engine: Engine) -> WriteGate:
    """Make every connection of ``engine`` (SQLite) take the gate before its transaction's
    first write and give it back once that transaction ended (committed, rolled back, or
    the connection closed)."""
    shared = WriteGate()

    class GatedConnection(sqlite3.Connection):
        """A connection that knows whether it holds the gate, and lets go of it when its
        transaction ends, after SQLite released its own lock."""

        gate = shared  # the engine's, for every connection it opens
        holds_gate = False

        def take_gate(self) -> None:
            if not self.holds_gate:
                self.holds_gate = self.gate.acquire()

        def _let_go(self) -> None:
            if self.holds_gate:
                self.holds_gate = False
                self.gate.release()

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self._let_go()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self._let_go()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._let_go()

    def gated_connections(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        params["factory"] = GatedConnection

    def before_write(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip()[:7].upper().startswith(_WRITES):
            dbapi = connection.connection.dbapi_connection
            if isinstance(dbapi, GatedConnection):
                dbapi.take_gate()

    event.listen(engine, "do_connect", gated_connections)
    event.listen(engine, "before_cursor_execute", before_write)
    return shared
