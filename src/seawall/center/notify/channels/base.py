"""The one interface every channel implements, and the one error each raises."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from seawall.center.notify.message import Notification
from seawall.safety.text import printable

MAX_REASON = 300


class DeliveryError(Exception):
    """A batch was not delivered. ``reason`` is one bounded line for the outbox and the
    dashboard; ``retryable`` says whether sending the same batch later may succeed (a
    timeout, a 5xx, a full mailbox) or cannot until someone changes the configuration (a 404,
    a refused login, a template problem)."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        self.reason = excerpt(reason, MAX_REASON)
        self.retryable = retryable
        super().__init__(self.reason)


class Channel(Protocol):
    def deliver(self, notifications: Sequence[Notification]) -> None:
        """Send ``notifications`` (a non-empty batch); DeliveryError if that failed."""


def excerpt(text: str, limit: int) -> str:
    """``text`` as one printable line of at most ``limit`` characters."""
    line = printable(" ".join(text.split()))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def require_batch(notifications: Sequence[Notification]) -> None:
    if not notifications:
        raise ValueError("nothing to deliver: the batch is empty")
