"""Slack incoming webhook: ``text`` (the subject, what a phone shows) plus Block Kit
``blocks`` (a header and the rendered ``slack`` template).

Slack reads ``<...>`` in text as links and mentions (``<!channel>``), so every string taken
from a notification has ``&``, ``<`` and ``>`` escaped before it reaches mrkdwn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seawall.center.notify.channels.http import is_http_url
from seawall.center.notify.channels.incoming import IncomingWebhook
from seawall.center.notify.message import Notification, bounded, clip
from seawall.center.notify.templates import Templates

MAX_HEADER = 150  # Slack's limit for a header block


def escape(text: str) -> str:
    """Slack's escaping for mrkdwn text: ``&``, ``<`` and ``>`` only."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(notifications: Sequence[Notification], templates: Templates) -> dict[str, object]:
    """The incoming-webhook JSON for a batch; TemplateProblem from a user template."""
    subject = escape(templates.subject(notifications))
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(subject, MAX_HEADER)}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": templates.render("slack", notifications, escape)},
        },
    ]
    url = bounded(notifications[0]).url
    if len(notifications) == 1 and is_http_url(url):
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open in Seawall"},
            "url": url,
        }
        blocks.append({"type": "actions", "elements": [button]})
    return {"text": subject, "blocks": blocks}


class SlackChannel(IncomingWebhook):
    """POST to a Slack incoming-webhook URL."""

    def payload(self, notifications: Sequence[Notification]) -> dict[str, Any]:
        return payload(notifications, self.templates)
