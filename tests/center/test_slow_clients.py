"""``seawall serve``'s HTTP protocol against slow clients, on a real uvicorn server: a
connection that sends nothing, or trickles a request's headers, is closed at the header
deadline; one that trickles its body, at the body deadline; a request that is in may take
its time to be answered."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from seawall.center.slowclients import SlowClientTimeout


class _Quick(SlowClientTimeout):
    header_timeout = 0.5
    body_timeout = 1.0


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["method"] == "POST":
        while (await receive()).get("more_body"):
            pass
    if scope["path"] == "/slow":
        await asyncio.sleep(1.5)  # longer than either deadline
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def port() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = int(probe.getsockname()[1])
    config = uvicorn.Config(_app, host="127.0.0.1", port=free, http=_Quick, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    yield free
    server.should_exit = True
    thread.join(10)


def _closed_after(connection: socket.socket, trickle: bytes = b"") -> float:
    """Seconds until the server closes ``connection`` (sending ``trickle`` a byte at a time)."""
    started = time.monotonic()
    connection.settimeout(0.1)
    remaining = list(trickle)
    while time.monotonic() - started < 10:
        try:
            if connection.recv(1) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass
        except OSError:
            return time.monotonic() - started
        if remaining:
            connection.sendall(bytes([remaining.pop(0)]))
    pytest.fail("the connection was never closed")


def test_a_silent_connection_is_closed_at_the_header_deadline(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        assert 0.4 < _closed_after(connection) < 3


def test_trickled_headers_are_cut_off(port: int) -> None:
    request = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"x" * 200
    with socket.create_connection(("127.0.0.1", port)) as connection:
        assert 0.4 < _closed_after(connection, request) < 3


def test_a_request_whose_headers_are_in_may_take_its_time(port: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        assert client.get("/slow").text == "ok"
        assert client.get("/").text == "ok"


def test_a_trickled_body_is_cut_off_at_the_body_deadline(port: int) -> None:
    head = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 400\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(head)
        assert 0.9 < _closed_after(connection, b"x" * 400) < 4


def test_a_whole_upload_may_wait_for_its_answer(port: int) -> None:
    with httpx.Client(timeout=10) as client:
        answer = client.post(f"http://127.0.0.1:{port}/slow", content=b"x" * 100_000)
    assert answer.status_code == 200 and answer.text == "ok"
