"""Stored channels and rules to the objects of :mod:`seawall.center.notify`: a channel row
(its secret opened with the center's key) to a ``Channel`` client and its ``ChannelSettings``,
a rule row to a ``Rule``. Validation lives here too, so the API refuses what could never be
delivered when it is saved, not when an alert fires."""

from __future__ import annotations

from typing import Any

from seawall.center.notify import (
    Channel,
    ChannelSettings,
    EmailChannel,
    Rule,
    SlackChannel,
    SyslogChannel,
    TeamsChannel,
    Templates,
    WebhookChannel,
    validate_template,
)
from seawall.center.security.vault import Vault
from seawall.center.store.models import NotificationChannelRow, NotificationRuleRow

KINDS = ("webhook", "slack", "teams", "email", "syslog")
SECRET_FIELDS = {"webhook": "secret", "slack": "url", "teams": "url", "email": "password"}


class ChannelProblem(ValueError):
    """A channel that cannot be stored as given."""


def build(kind: str, settings: dict[str, Any], secret: str, templates: dict[str, str]) -> Channel:
    """The client of a channel; ChannelProblem naming what is wrong."""
    try:
        for name, text in templates.items():
            validate_template(text, name)
        rendered = Templates(templates or None)
        if kind == "webhook":
            return WebhookChannel(str(settings["url"]), secret)
        if kind == "slack":
            return SlackChannel(secret, templates=rendered)
        if kind == "teams":
            return TeamsChannel(secret, templates=rendered)
        if kind == "email":
            return EmailChannel(
                host=str(settings["host"]),
                port=int(settings.get("port", 587)),
                sender=str(settings["sender"]),
                recipients=[str(r) for r in settings["recipients"]],
                security=settings.get("security", "starttls"),
                username=str(settings.get("username", "")),
                password=secret,
                templates=rendered,
            )
        if kind == "syslog":
            return SyslogChannel(
                str(settings["host"]),
                int(settings.get("port", 514)),
                transport=settings.get("transport", "udp"),
                facility=settings.get("facility", "local0"),
                templates=rendered,
            )
    except KeyError as missing:
        raise ChannelProblem(f"a {kind} channel needs {missing.args[0]}") from None
    except (ValueError, TypeError) as exc:
        raise ChannelProblem(str(exc)) from None
    raise ChannelProblem(f"unknown channel kind {kind!r} (expected: {', '.join(KINDS)})")


def channel_of(row: NotificationChannelRow, vault: Vault) -> Channel:
    return build(row.kind, dict(row.settings), vault.open(row.secret), dict(row.templates))


def settings_of(row: NotificationChannelRow) -> ChannelSettings:
    return ChannelSettings(mode=row.mode, max_per_hour=row.max_per_hour)  # type: ignore[arg-type]


def rule_of(row: NotificationRuleRow) -> Rule:
    return Rule.of(row.name, kinds=row.kinds, min_severity=row.min_severity, scope=row.scope)


def key(row: NotificationChannelRow) -> str:
    """The channel's name in plans (:mod:`seawall.center.notify.digest`)."""
    return str(row.id)
