"""Generic webhook: the batch as JSON, signed so the receiver knows it came from Seawall.

The body is ``{"notifications": [...]}`` (each in the wire form of
:func:`~seawall.center.notify.message.to_wire`). Headers:

- ``Seawall-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``: the
  timestamp is signed with the body, so a captured request cannot be replayed later than
  the receiver's tolerance (:func:`verify_signature`, 5 minutes by default);
- ``Seawall-Delivery: <uuid>``: the same for every attempt of the same body, so a receiver
  can drop the second copy when a retry follows a delivery whose answer was lost.

``docs/notifications.md`` shows a receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Sequence

import msgspec

from seawall.center.notify.channels.base import require_batch
from seawall.center.notify.channels.http import Timeouts, check_url, post_json
from seawall.center.notify.message import Notification, to_wire

SIGNATURE_HEADER = "Seawall-Signature"
DELIVERY_HEADER = "Seawall-Delivery"
_DELIVERY_NAMESPACE = uuid.UUID("0d6b5cf4-6a43-4f57-9d4b-5a4b1e2f0c11")


class SignatureError(ValueError):
    """A webhook request whose signature is missing, wrong or too old."""


def _key(secret: str | bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    if not key:
        raise ValueError("the webhook secret must not be empty")
    return key


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body`` under ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str | bytes, header: str, body: bytes, now: float, tolerance: float = 300
) -> None:
    """Check a ``Seawall-Signature`` header for ``body`` (the raw bytes received) at ``now``
    (unix seconds); SignatureError if it is malformed, older or newer than ``tolerance``
    seconds, or matches no ``v1`` value (several are allowed, for rotating secrets)."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("malformed signature header: expected t=<seconds>,v1=<hex>")
    if abs(now - timestamp) > tolerance:
        raise SignatureError("signature timestamp outside the tolerance (a replay?)")
    expected = sign(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("signature does not match the body")


def encode_body(notifications: Sequence[Notification]) -> bytes:
    """The JSON body for a batch."""
    return msgspec.json.encode({"notifications": [to_wire(n) for n in notifications]})


class WebhookChannel:
    """POST signed JSON to ``url``; ``clock`` gives unix seconds (injectable for tests)."""

    def __init__(
        self,
        url: str,
        secret: str | bytes,
        *,
        timeouts: Timeouts = Timeouts(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = check_url(url)
        self._secret = _key(secret)
        self.timeouts = timeouts
        self._clock = clock

    def deliver(self, notifications: Sequence[Notification]) -> None:
        require_batch(notifications)
        body = encode_body(notifications)
        timestamp = int(self._clock())
        delivery = uuid.uuid5(_DELIVERY_NAMESPACE, hashlib.sha256(body).hexdigest())
        headers = {
            SIGNATURE_HEADER: f"t={timestamp},v1={sign(self._secret, timestamp, body)}",
            DELIVERY_HEADER: str(delivery),
        }
        post_json(self.url, body, headers, self.timeouts)
