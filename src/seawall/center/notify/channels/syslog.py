"""RFC 5424 syslog to a remote collector over UDP (RFC 5426) or TCP (RFC 6587 octet
counting), with a plain socket: the standard library's ``syslog`` module only talks to the
local daemon, and ``logging.handlers.SysLogHandler`` writes BSD (RFC 3164) lines.

Each notification is one message: ``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG``
where PRI is ``facility * 8 + severity`` (the notification's severity mapped below), the
timestamp is when the problem occurred (UTC), MSGID is the notification kind, there is no
structured data (``-``: an SD-ID needs an IANA enterprise number) and MSG is the rendered
``syslog`` template, one line, UTF-8 without a BOM. A UDP datagram is at most 2048 bytes
(what RFC 5426 receivers must accept), a TCP frame at most 8192; MSG is cut to fit.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Literal

from seawall.center.notify.channels.base import DeliveryError, require_batch
from seawall.center.notify.message import Notification
from seawall.center.notify.templates import TemplateProblem, Templates
from seawall.model import Severity

Transport = Literal["udp", "tcp"]
MAX_UDP = 2048
MAX_TCP = 8192

_FACILITY_NAMES = """
    kern user mail daemon auth syslog lpr news uucp cron authpriv ftp ntp security console
    solaris-cron local0 local1 local2 local3 local4 local5 local6 local7
""".split()  # noqa: SIM905
FACILITIES: Mapping[str, int] = {name: number for number, name in enumerate(_FACILITY_NAMES)}
# Seawall severity -> syslog severity (2 critical, 3 error, 4 warning, 5 notice).
SEVERITIES: Mapping[Severity, int] = {
    Severity.CRITICAL: 2,
    Severity.HIGH: 3,
    Severity.MEDIUM: 4,
    Severity.LOW: 5,
    Severity.UNKNOWN: 5,
}


def facility_of(value: int | str) -> int:
    """A facility from its number (0-23) or name (``local0``); ValueError otherwise."""
    if isinstance(value, str):
        if value.lower() not in FACILITIES:
            raise ValueError(f"unknown syslog facility {value!r}")
        return FACILITIES[value.lower()]
    if not 0 <= value <= 23:
        raise ValueError(f"syslog facility {value} is not between 0 and 23")
    return value


def _field(text: str, limit: int) -> str:
    """A header field: printable US-ASCII without spaces, ``-`` when empty."""
    cleaned = "".join(c if 33 <= ord(c) <= 126 else "_" for c in text)[:limit]
    return cleaned or "-"


def format_message(
    notification: Notification,
    text: str,
    *,
    facility: int,
    hostname: str,
    app_name: str,
    procid: str,
    limit: int,
) -> bytes:
    """One RFC 5424 message whose MSG is ``text``, at most ``limit`` bytes."""
    priority = facility * 8 + SEVERITIES[notification.severity]
    stamp = notification.occurred_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    header = (
        f"<{priority}>1 {stamp} {_field(hostname, 255)} {_field(app_name, 48)} "
        f"{_field(procid, 128)} {_field(notification.kind, 32)} - "
    ).encode("ascii")
    body = text.encode("utf-8")[: max(limit - len(header), 0)]
    return header + body.decode("utf-8", "ignore").encode("utf-8")


class SyslogChannel:
    """Send each notification as one RFC 5424 message to ``host:port``."""

    def __init__(
        self,
        host: str,
        port: int = 514,
        *,
        transport: Transport = "udp",
        facility: int | str = "local0",
        app_name: str = "seawall",
        hostname: str = "",
        timeout: float = 5.0,
        templates: Templates | None = None,
    ) -> None:
        if transport not in ("udp", "tcp"):
            raise ValueError(f"invalid transport {transport!r}: expected udp or tcp")
        self.host = host
        self.port = port
        self.transport = transport
        self.facility = facility_of(facility)
        self.app_name = app_name
        self.hostname = hostname or socket.getfqdn()
        self.timeout = timeout
        self.templates = templates or Templates()

    def messages(self, notifications: Sequence[Notification]) -> list[bytes]:
        """The encoded messages of a batch; TemplateProblem from a user template."""
        limit = MAX_UDP if self.transport == "udp" else MAX_TCP
        return [
            format_message(
                n,
                self.templates.render("syslog", [n]),
                facility=self.facility,
                hostname=self.hostname,
                app_name=self.app_name,
                procid=str(os.getpid()),
                limit=limit,
            )
            for n in notifications
        ]

    def deliver(self, notifications: Sequence[Notification]) -> None:
        require_batch(notifications)
        try:
            messages = self.messages(notifications)
        except TemplateProblem as problem:
            raise DeliveryError(f"cannot render: {problem}", retryable=False) from None
        try:
            if self.transport == "udp":
                self._send_udp(messages)
            else:
                self._send_tcp(messages)
        except OSError as error:
            reason = f"cannot send to {self.host}:{self.port}/{self.transport}: {error}"
            raise DeliveryError(reason, retryable=True) from None

    def _send_udp(self, messages: list[bytes]) -> None:
        family, kind, proto, _, address = socket.getaddrinfo(
            self.host, self.port, type=socket.SOCK_DGRAM
        )[0]
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(self.timeout)
            for message in messages:
                sock.sendto(message, address)

    def _send_tcp(self, messages: list[bytes]) -> None:
        frames = b"".join(str(len(m)).encode() + b" " + m for m in messages)
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
            sock.sendall(frames)
