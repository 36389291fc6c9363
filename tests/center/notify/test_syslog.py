"""Syslog (RFC 5424) to a real UDP socket and a real TCP listener."""

from __future__ import annotations

import datetime as dt
import re
import socket
import threading

import pytest

from seawall.center.notify import DeliveryError, SyslogChannel
from seawall.center.notify.channels.syslog import MAX_UDP
from tests.center.notify.conftest import free_port, make_notification

HEADER = re.compile(
    rb"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<proc>\S+) "
    rb"(?P<msgid>\S+) (?P<sd>-) (?P<msg>.*)$",
    re.DOTALL,
)


def _parse(message: bytes) -> dict[str, bytes]:
    match = HEADER.match(message)
    assert match, message
    return match.groupdict()


def test_udp() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        port = server.getsockname()[1]
        channel = SyslogChannel("127.0.0.1", port, facility="local3", hostname="center one")
        batch = [
            make_notification(),
            make_notification(severity="low", kind="runtime_alert", summary="x" * 10_000),
        ]
        channel.deliver(batch)
        first, second = (server.recv(65536), server.recv(65536))
    a, b = _parse(first), _parse(second)
    assert int(a["pri"]) == 19 * 8 + 2  # local3, critical
    assert int(b["pri"]) == 19 * 8 + 5  # local3, notice
    assert dt.datetime.fromisoformat(a["ts"].decode()) == make_notification().occurred_at
    assert a["ts"] == b"2024-05-06T07:08:09.123456Z"
    assert a["host"] == b"center_one" and a["app"] == b"seawall"
    assert a["msgid"] == b"new_critical_finding" and b["msgid"] == b"runtime_alert"
    assert a["msg"].startswith(b"CRITICAL new_critical_finding: CVE-2024-3094 in xz-utils")
    assert b"\n" not in a["msg"]
    assert len(second) <= MAX_UDP


def test_tcp_octet_counting() -> None:
    received = bytearray()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(5)

        def accept() -> None:
            connection, _ = server.accept()
            with connection:
                while chunk := connection.recv(65536):
                    received.extend(chunk)

        thread = threading.Thread(target=accept)
        thread.start()
        channel = SyslogChannel("127.0.0.1", server.getsockname()[1], transport="tcp",
                                facility=4)  # fmt: skip
        channel.deliver([make_notification(), make_notification(title="second\nline")])
        thread.join(5)
    frames = []
    rest = bytes(received)
    while rest:
        length, _, rest = rest.partition(b" ")
        frames.append(rest[: int(length)])
        rest = rest[int(length) :]
    assert len(frames) == 2
    parsed = [_parse(frame) for frame in frames]
    assert int(parsed[0]["pri"]) == 4 * 8 + 2
    assert b"second\\x0aline" in parsed[1]["msg"]  # control characters escaped


def test_tcp_refused_is_retryable() -> None:
    channel = SyslogChannel("127.0.0.1", free_port(), transport="tcp", timeout=2)
    with pytest.raises(DeliveryError) as caught:
        channel.deliver([make_notification()])
    assert caught.value.retryable


@pytest.mark.parametrize("facility", ["local9", 24, -1])
def test_bad_facility(facility: object) -> None:
    with pytest.raises(ValueError, match="facility"):
        SyslogChannel("127.0.0.1", facility=facility)  # type: ignore[arg-type]
