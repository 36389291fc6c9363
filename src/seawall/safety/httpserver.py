"""A small HTTP(S) server for clients that may be hostile, on the standard library's
threading server: the admission webhook and `runtime watch`'s audit webhook both use it.

- TLS handshakes run in the connection's thread, never in the accept loop (a client that
  connects and says nothing would otherwise stop every other client).
- Connections are capped: beyond ``max_connections`` a new one is closed at once, with no
  thread and no handshake.
- A request must arrive whole within ``read_timeout`` of its first byte, and its request
  line and headers within :data:`MAX_HEADER_BYTES` (see :class:`RequestReader`).
- A body needs exactly one ``Content-Length``, no ``Transfer-Encoding`` with it (request
  smuggling needs both), the expected media type and at most ``max_body_bytes``
  (:meth:`BoundedHandler.body`).

Reading a request within a deadline, and with a byte budget for the request line and headers:

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
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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


class BoundedHandler(BaseHTTPRequestHandler):
    """A handler whose requests are read by :class:`RequestReader` from a server that is a
    :class:`BoundedServer`; subclasses answer with :meth:`send` and read bodies with
    :meth:`body`."""

    protocol_version = "HTTP/1.1"  # keep-alive: API servers reuse their connections
    sys_version = ""
    timeout = 30  # idle keep-alive connections are closed
    server: BoundedServer

    def setup(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.settimeout(self.timeout)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()
        self.rfile.close()  # the plain reader setup() made; the socket stays open
        self.rfile = RequestReader(self.request, self.server.read_timeout)

    def handle_one_request(self) -> None:
        assert isinstance(self.rfile, RequestReader)
        self.rfile.next_request()
        super().handle_one_request()

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: a line per request would flood it (servers log what they decide)."""

    def send(self, code: int, body: bytes, content_type: str = "application/json") -> None:
        """The whole response in one write (one TLS record, one segment): separate small
        writes meet Nagle's algorithm and delayed ACKs and cost tens of milliseconds."""
        head = [
            f"{self.protocol_version} {code} {self.responses[code][0]}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
        ]
        if self.close_connection:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    def refuse(self, code: int, message: str) -> None:
        """Answer a request that is refused (subclasses may count it)."""
        self.send(code, json.dumps({"error": message}).encode())

    def body(self, media_type: str = "application/json") -> bytes | None:
        """The request's body, or None after refusing the request and closing the connection
        (a body left unread makes it unusable) or when the client closed early."""
        lengths = self.headers.get_all("Content-Length") or []
        given = self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        limit = self.server.max_body_bytes
        keep_alive, self.close_connection = self.close_connection, True
        if "Transfer-Encoding" in self.headers and lengths:
            self.refuse(400, "Content-Length and Transfer-Encoding together are refused")
        elif not lengths:
            self.refuse(411, "Content-Length is required")
        elif len(lengths) > 1:
            self.refuse(400, "more than one Content-Length")
        elif not (lengths[0].isascii() and lengths[0].isdigit() and len(lengths[0]) <= 18):
            self.refuse(400, "Content-Length is not a number")
        elif given != media_type:
            self.refuse(415, f"Content-Type must be {media_type}")
        elif int(lengths[0]) > limit:
            self.refuse(413, f"request of {lengths[0]} bytes exceeds the limit of {limit}")
        else:
            length = int(lengths[0])
            data = self.rfile.read(length)
            if len(data) == length:
                self.close_connection = keep_alive
                return data
        return None


class BoundedServer(ThreadingHTTPServer):
    """A threading HTTP server, HTTPS when given a TLS context, with a cap on connections
    and the reading limits of :class:`BoundedHandler`."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BoundedHandler],
        tls: ssl.SSLContext | None,
        *,
        max_connections: int = 128,
        max_body_bytes: int,
        read_timeout: float = 10.0,
    ) -> None:
        super().__init__(address, handler)
        self.max_body_bytes = max_body_bytes
        self.read_timeout = read_timeout
        self.connections = threading.BoundedSemaphore(max_connections)
        if tls is not None:
            self.socket = tls.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def refused_connection(self) -> None:
        """Called when a connection is closed on arrival (subclasses may count it)."""

    def process_request(self, request: Any, client_address: Any) -> None:
        """A thread for the connection, unless ``max_connections`` are open already: then
        it is closed at once (answering would need a TLS handshake, in this loop)."""
        if not self.connections.acquire(blocking=False):
            self.refused_connection()
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops or fails the TLS handshake is not worth a traceback."""

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start_background(self, name: str) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name=name, daemon=True)
        thread.start()
        return thread
