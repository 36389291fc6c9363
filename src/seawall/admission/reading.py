"""Reading a request from a client that may be hostile: within a deadline, and with a byte
budget for the request line and headers.

A socket timeout bounds one ``recv``; a client that sends a byte every few seconds
(slowloris) never trips it, and holds a thread for as long as it likes. Here each request
has a deadline instead, started by its first bytes: every ``recv`` may wait only for what is
left of it, so a request arrives whole within ``read_timeout`` or the connection is closed.
Between requests, an idle keep-alive connection waits for the socket's own timeout.

The standard library bounds each header line (64 KiB) and their number (100); the budget
bounds their sum.
"""

from __future__ import annotations

import http.client
import io
import socket
import time

MAX_HEADER_BYTES = 32 * 1024  # the request line and headers; the API server sends ~1 KiB


class _DeadlineSocket(io.RawIOBase):
    """A socket's receiving side whose reads end at a deadline (once one is started)."""

    def __init__(self, connection: socket.socket, read_timeout: float) -> None:
        self._connection = connection
        self._read_timeout = read_timeout
        self._idle_timeout = connection.gettimeout()
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.deadline is None:
            self._connection.settimeout(self._idle_timeout)
        else:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the request did not arrive in time")
            self._connection.settimeout(left)
        received = self._connection.recv_into(buffer)
        if received and self.deadline is None:
            self.deadline = time.monotonic() + self._read_timeout
        return received


class RequestReader(io.BufferedReader):
    """The handler's ``rfile``: call :meth:`next_request` before reading each request."""

    def __init__(self, connection: socket.socket, read_timeout: float) -> None:
        self._socket = _DeadlineSocket(connection, read_timeout)
        super().__init__(self._socket)
        self._header_budget = MAX_HEADER_BYTES

    def next_request(self) -> None:
        """Forget the last request's deadline and header bytes."""
        self._socket.deadline = None
        self._header_budget = MAX_HEADER_BYTES

    def readline(self, size: int | None = -1) -> bytes:
        """A header line (``http.server`` reads only those with ``readline``), counted
        against the budget: LineTooLong, which the handler answers with 431, past it."""
        line = super().readline(-1 if size is None else size)
        self._header_budget -= len(line)
        if self._header_budget < 0:
            raise http.client.LineTooLong(f"request headers beyond {MAX_HEADER_BYTES} bytes")
        return line
