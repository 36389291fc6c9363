"""E-mail over SMTP: one message per batch, a text part and an HTML alternative.

``security`` is ``"starttls"`` (upgrade a plain connection, the submission port 587),
``"tls"`` (implicit TLS, port 465) or ``"none"`` (a relay on a trusted network); the
server's certificate is verified against the system's CAs unless ``tls_context`` says
otherwise. Addresses are checked when the channel is made. SMTP's own answer decides
whether a failure is retryable: 4xx and lost connections are, 5xx and refused logins are
not. When some recipients accept and others refuse, the message has gone out, so the
error is not retryable (a retry would send it twice to the others).
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal

from seawall.center.notify.channels.base import DeliveryError, require_batch
from seawall.center.notify.message import Notification
from seawall.center.notify.templates import TemplateProblem, Templates

Security = Literal["starttls", "tls", "none"]
MAX_RECIPIENTS = 100
_FORM = re.compile(r'^\s*(?:(?P<name>[^<>",;@\r\n]*?)\s*<(?P<spec>[^<>]+)>|(?P<bare>\S+))\s*$')
_ADDR_SPEC = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def parse_address(text: str) -> Address:
    """``user@example.com`` or ``Name <user@example.com>``; ValueError naming the problem."""
    form = _FORM.match(text)
    name, spec = (form["name"] or "", form["spec"] or form["bare"]) if form else ("", "")
    if not _ADDR_SPEC.match(spec):
        raise ValueError(f"invalid e-mail address {text[:100]!r}")
    local, _, domain = spec.partition("@")
    return Address(display_name=name, username=local, domain=domain)


class EmailChannel:
    """Send each batch as one e-mail to ``recipients`` through ``host:port``."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        security: Security = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 15.0,
        templates: Templates | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("starttls", "tls", "none"):
            raise ValueError(f"invalid security {security!r}: expected starttls, tls or none")
        if not recipients or len(recipients) > MAX_RECIPIENTS:
            raise ValueError(f"between 1 and {MAX_RECIPIENTS} recipients are needed")
        self.host = host
        self.port = port
        self.sender = parse_address(sender)
        self.recipients = [parse_address(r) for r in recipients]
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        self.templates = templates or Templates()
        self._tls = tls_context or ssl.create_default_context()

    def message(self, notifications: Sequence[Notification]) -> EmailMessage:
        """The e-mail for a batch; TemplateProblem from a user template."""
        message = EmailMessage()
        message["Subject"] = self.templates.subject(notifications)
        message["From"] = self.sender
        message["To"] = self.recipients
        message["Date"] = format_datetime(max(n.occurred_at for n in notifications))
        message["Message-ID"] = make_msgid("seawall", domain=self.sender.domain)
        message.set_content(self.templates.render("text", notifications))
        message.add_alternative(self.templates.render("html", notifications), subtype="html")
        return message

    def deliver(self, notifications: Sequence[Notification]) -> None:
        require_batch(notifications)
        try:
            message = self.message(notifications)
        except TemplateProblem as problem:
            raise DeliveryError(f"cannot render: {problem}", retryable=False) from None
        try:
            refused = self._send(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            reason = f"all recipients refused: {_refusals(error.recipients)}"
            raise DeliveryError(reason, retryable=all(400 <= c < 500 for c in codes)) from None
        except smtplib.SMTPResponseException as error:
            raw = error.smtp_error
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            reason = f"SMTP {error.smtp_code}: {text}"
            raise DeliveryError(reason, retryable=400 <= error.smtp_code < 500) from None
        except smtplib.SMTPNotSupportedError as error:
            raise DeliveryError(f"SMTP server: {error}", retryable=False) from None
        except ssl.SSLError as error:
            raise DeliveryError(f"TLS failed: {error}", retryable=False) from None
        except (OSError, smtplib.SMTPException) as error:
            reason = f"cannot reach {self.host}:{self.port}: {type(error).__name__}: {error}"
            raise DeliveryError(reason, retryable=True) from None
        if refused:
            reason = (
                f"delivered to {len(self.recipients) - len(refused)} of {len(self.recipients)} "
                f"recipients; refused: {_refusals(refused)}"
            )
            raise DeliveryError(reason, retryable=False)

    def _send(self, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo(socket.getfqdn())
            if self.security == "starttls":
                smtp.starttls(context=self._tls)
                smtp.ehlo(socket.getfqdn())
            if self.username:
                smtp.login(self.username, self.password)
            return smtp.send_message(message)


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {text.decode('utf-8', 'replace')})"
        for address, (code, text) in refused.items()
    )
