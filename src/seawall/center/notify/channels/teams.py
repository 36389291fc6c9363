"""Microsoft Teams incoming webhook or Workflows ("Post to a channel when a webhook request
is received"): a ``message`` with one Adaptive Card attachment holding the subject, the
rendered ``teams`` template, the facts of a single notification and a link to it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seawall.center.notify.channels.http import is_http_url
from seawall.center.notify.channels.incoming import IncomingWebhook
from seawall.center.notify.message import Notification, bounded
from seawall.center.notify.templates import Templates

CARD_TYPE = "application/vnd.microsoft.card.adaptive"


def payload(notifications: Sequence[Notification], templates: Templates) -> dict[str, object]:
    """The webhook JSON for a batch; TemplateProblem from a user template."""
    body: list[dict[str, object]] = [
        {
            "type": "TextBlock",
            "text": templates.subject(notifications),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        {"type": "TextBlock", "text": templates.render("teams", notifications), "wrap": True},
    ]
    actions: list[dict[str, object]] = []
    if len(notifications) == 1:
        only = bounded(notifications[0])
        if only.facts:
            facts = [{"title": label, "value": value} for label, value in only.facts]
            body.append({"type": "FactSet", "facts": facts})
        if is_http_url(only.url):
            link: dict[str, object] = {
                "type": "Action.OpenUrl",
                "title": "Open in Seawall",
                "url": only.url,
            }
            actions.append(link)
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": body,
        "actions": actions,
    }
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_TYPE, "contentUrl": None, "content": card}],
    }


class TeamsChannel(IncomingWebhook):
    """POST to a Teams incoming-webhook or Workflows URL."""

    def payload(self, notifications: Sequence[Notification]) -> dict[str, Any]:
        return payload(notifications, self.templates)
