"""Chat channels fed through an incoming webhook (Slack, Teams): a JSON payload rendered
from the templates, POSTed to the webhook URL (which is itself the secret)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from seawall.center.notify.channels.base import DeliveryError, require_batch
from seawall.center.notify.channels.http import Timeouts, check_url, post_json
from seawall.center.notify.message import Notification
from seawall.center.notify.templates import TemplateProblem, Templates


class IncomingWebhook:
    """A channel POSTing :meth:`payload` to ``url``; subclasses say what the payload is."""

    def __init__(
        self, url: str, *, templates: Templates | None = None, timeouts: Timeouts = Timeouts()
    ) -> None:
        self.url = check_url(url)
        self.templates = templates or Templates()
        self.timeouts = timeouts

    def payload(self, notifications: Sequence[Notification]) -> dict[str, Any]:
        raise NotImplementedError

    def deliver(self, notifications: Sequence[Notification]) -> None:
        require_batch(notifications)
        try:
            body = msgspec.json.encode(self.payload(notifications))
        except TemplateProblem as problem:
            raise DeliveryError(f"cannot render: {problem}", retryable=False) from None
        post_json(self.url, body, {}, self.timeouts)
