"""uvicorn's HTTP/1.1 protocol with deadlines for each request's headers and body.

uvicorn closes an idle keep-alive connection between requests (``timeout_keep_alive``), but
not a new connection that sends nothing, nor one that trickles a request a byte at a time
(slowloris, or its slow-body variant): each holds a place under ``limit_concurrency`` for as
long as it likes, and enough of them turn every other client away with 503s. Here a
request's headers must arrive within :attr:`SlowClientTimeout.header_timeout` of the
connection opening or of the previous response, and its body within
:attr:`SlowClientTimeout.body_timeout` of its headers, or the connection is closed. (h11
already bounds the headers' size; the application bounds the body's.) The application may
take as long as it needs to answer once the request is in.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class SlowClientTimeout(H11Protocol):
    header_timeout = 10.0  # seconds
    body_timeout = 120.0  # an upload of the largest body the center takes, on a slow link
    _timer: asyncio.TimerHandle | None = None
    _awaiting_body = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait(self.header_timeout, awaiting_body=False)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._wait(self.header_timeout, awaiting_body=False)

    def handle_events(self) -> None:
        super().handle_events()
        if self._timer is None or not self._in_request():
            return
        if self.conn.their_state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED):
            self._cancel()  # the whole request is in: the application has it
        elif not self._awaiting_body:
            self._wait(self.body_timeout, awaiting_body=True)  # headers in, body to come

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def _in_request(self) -> bool:
        cycle = getattr(self, "cycle", None)
        return cycle is not None and not cycle.response_complete

    def _wait(self, seconds: float, *, awaiting_body: bool) -> None:
        self._cancel()
        self._awaiting_body = awaiting_body
        self._timer = self.loop.call_later(seconds, self._too_slow)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _too_slow(self) -> None:
        self._timer = None
        if self._awaiting_body or not self._in_request():
            self.transport.close()
