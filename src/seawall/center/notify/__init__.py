"""Notification channels of the center: what a notification is, which rules route it,
how its text is rendered, how each channel delivers a batch, and how digests, throttling
and de-duplication decide what goes out now. No database: the center's outbox stores
``Notification`` (msgspec JSON) and ``Sent`` records and calls :func:`plan` and
``Channel.deliver``. See docs/notifications.md.
"""

from seawall.center.notify.channels.base import Channel, DeliveryError
from seawall.center.notify.channels.email import EmailChannel
from seawall.center.notify.channels.http import Timeouts
from seawall.center.notify.channels.slack import SlackChannel
from seawall.center.notify.channels.syslog import SyslogChannel
from seawall.center.notify.channels.teams import TeamsChannel
from seawall.center.notify.channels.webhook import SignatureError, WebhookChannel, verify_signature
from seawall.center.notify.digest import Batch, ChannelSettings, Pending, Plan, Sent, plan
from seawall.center.notify.message import KINDS, Kind, Notification, Resource
from seawall.center.notify.rules import Rule, matches
from seawall.center.notify.templates import TemplateProblem, Templates, validate_template

__all__ = [
    "KINDS",
    "Batch",
    "Channel",
    "ChannelSettings",
    "DeliveryError",
    "EmailChannel",
    "Kind",
    "Notification",
    "Pending",
    "Plan",
    "Resource",
    "Rule",
    "Sent",
    "SignatureError",
    "SlackChannel",
    "SyslogChannel",
    "TeamsChannel",
    "TemplateProblem",
    "Templates",
    "Timeouts",
    "WebhookChannel",
    "matches",
    "plan",
    "validate_template",
    "verify_signature",
]
