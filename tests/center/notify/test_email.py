"""E-mail to a real SMTP server (aiosmtpd in its own process)."""

from __future__ import annotations

import email
import email.policy

import pytest

from seawall.center.notify import DeliveryError, EmailChannel
from tests.center.notify.conftest import SmtpServer, free_port, make_notification


def _channel(port: int, **changes: object) -> EmailChannel:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "sender": "Seawall <seawall@example.com>",
        "recipients": ["ops@example.com", "sec@example.org"],
        "security": "none",
        "timeout": 5.0,
    }
    values.update(changes)
    return EmailChannel(**values)  # type: ignore[arg-type]


def test_delivers_text_and_html(smtp_server: SmtpServer) -> None:
    hostile = make_notification(
        summary="<script>alert(1)</script> in the summary", title="Bad\r\nBcc: x@evil.example"
    )
    _channel(smtp_server.port).deliver([hostile, make_notification(severity="medium")])
    (raw,) = smtp_server.messages()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == r"[Seawall] CRITICAL: Bad\x0d\x0aBcc: x@evil.example (and 1 more)"
    assert message["Bcc"] is None
    assert message["From"] == "Seawall <seawall@example.com>"
    assert message["To"] == "ops@example.com, sec@example.org"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert r"[CRITICAL] Bad\x0d\x0aBcc: x@evil.example" in text  # CR LF escaped
    assert "<script>alert(1)</script> in the summary" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "[MEDIUM]" in text and "[MEDIUM]" in html
    assert '<a href="https://seawall.example/findings/1">' in html


def test_closed_port_is_retryable() -> None:
    with pytest.raises(DeliveryError, match="cannot reach") as caught:
        _channel(free_port()).deliver([make_notification()])
    assert caught.value.retryable


def test_starttls_unsupported_is_not_retryable(smtp_server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match="STARTTLS") as caught:
        _channel(smtp_server.port, security="starttls").deliver([make_notification()])
    assert not caught.value.retryable


@pytest.mark.parametrize(
    "address", ["not an address", "a@b@c", "x@evil.example\r\nBcc: y@z", "@example.com", ""]
)
def test_addresses_are_checked(address: str) -> None:
    with pytest.raises(ValueError, match="e-mail address"):
        _channel(25, sender=address)
    with pytest.raises(ValueError, match="e-mail address"):
        _channel(25, recipients=[address])
