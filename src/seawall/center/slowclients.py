"""uvicorn's HTTP/1.1 protocol with a deadline for each request's headers.

uvicorn closes an idle keep-alive connection between requests (``timeout_keep_alive``), but
not a new connection that sends nothing, nor one that trickles a request's headers a byte
at a time (slowloris): each holds a place under ``limit_concurrency`` for as long as it
likes, and enough of them turn every other client away with 503s. Here the headers of a
request must arrive within :attr:`SlowClientTimeout.header_timeout` of the connection
opening or of the previous response, or the connection is closed. (h11 already bounds
their size.)
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol


class SlowClientTimeout(H11Protocol):
    header_timeout = 10.0  # seconds
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._start_head_timer()

    def handle_events(self) -> None:
        super().handle_events()
        if self._in_request() and self._head_timer is not None:
            self._head_timer.cancel()  # the headers are in: the application has the request
            self._head_timer = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _in_request(self) -> bool:
        cycle = getattr(self, "cycle", None)
        return cycle is not None and not cycle.response_complete

    def _start_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        self._head_timer = None
        if not self._in_request():
            self.transport.close()
