"""Envelopes to the center, through the spool when the center cannot take them.

Every envelope is posted as :mod:`seawall.upload` posts it (bearer token, the body's
sha256 as ``Idempotency-Key``), so one sent twice (its answer lost, then resent from the
spool) is stored once. What the answer means:

- 2xx: delivered.
- no answer (refused connection, timeout), 408, 429, 5xx: the center will take it later.
  It goes to the spool, and the center is left alone for a while (1 s, doubling up to
  ``max_backoff``); the spool is resent oldest first when the center answers again.
- 401: the token is refused. The envelope is spooled (nothing is lost), and the agent
  stops with an environment error (exit 3): resending cannot help until a person acts.
- any other 4xx (403 outside the token's scope, 413 too large, 422 invalid): this envelope
  will never be taken. It is set aside in the spool's ``rejected/`` and logged.

While the spool holds anything, new envelopes go behind it, so the center receives them in
the order they were made. Thread-safe: one lock around every send, so the round and the
alert batches take turns and at most one request is in flight.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import threading
import time

import httpx
import msgspec

from seawall.agent.spool import Spool
from seawall.errors import EnvironmentFailure
from seawall.upload import Receipt, _reason, ingest_url

log = logging.getLogger("seawall.agent")


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    SPOOLED = "spooled"
    REJECTED = "rejected"  # refused for good, set aside
    DROPPED = "dropped"  # could not be delivered nor spooled (counted by the spool)


class _Answer(enum.Enum):
    OK = 1
    LATER = 2
    REFUSED = 3
    UNAUTHORIZED = 4


class TokenRefused(EnvironmentFailure):
    """The center answered 401: the token is wrong, expired or revoked."""


class Delivery:
    """Sends envelope bodies to ``center`` with ``token``, spooling what cannot go now."""

    def __init__(
        self,
        center: str,
        token: str,
        spool: Spool,
        *,
        timeout: float = 30.0,
        max_backoff: float = 60.0,
    ) -> None:
        self.center = center
        self.url = ingest_url(center)
        self.spool = spool
        self.max_backoff = max_backoff
        self.fatal: TokenRefused | None = None
        self.closing = False  # shutting down: everything goes to the spool
        self.delivered = 0
        self.refused = 0  # envelopes the center refused for good (4xx), this run
        self._backoff = 0.0
        self._quiet_until = 0.0
        self._down_since = 0.0
        self._lock = threading.Lock()
        self._client = httpx.Client(
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )

    def close(self) -> None:
        with self._lock:
            self._client.close()
            self.spool.save_status(delivered_this_run=self.delivered)

    # -- public ------------------------------------------------------------------------------

    def submit(self, body: bytes, what: str) -> Outcome:
        """Deliver ``body`` (an encoded envelope, ``what`` names it in logs) now, or spool it.
        Each outcome is logged with the first 12 digits of the envelope's key."""
        label = f"{what} [{hashlib.sha256(body).hexdigest()[:12]}]"
        with self._lock:
            if self._may_send() and len(self.spool):
                self._drain()
            if not self._may_send() or len(self.spool):
                return self._to_spool(body, label)
            answer, reason = self._post(body)
            if answer is _Answer.OK:
                log.info("%s delivered", label)
                return Outcome.DELIVERED
            if answer is _Answer.REFUSED:
                self.refused += 1
                self.spool.reject_body(body, f"{label}: {reason}")
                return Outcome.REJECTED
            return self._to_spool(body, label)

    def retry(self) -> None:
        """Resend the spool, oldest first, if the center is not being left alone."""
        with self._lock:
            if self._may_send() and len(self.spool):
                self._drain()

    @property
    def backing_off(self) -> bool:
        return time.monotonic() < self._quiet_until

    # -- inside the lock ---------------------------------------------------------------------

    def _may_send(self) -> bool:
        return not self.closing and self.fatal is None and not self.backing_off

    def _to_spool(self, body: bytes, label: str) -> Outcome:
        if self.spool.put(body):
            log.info("%s spooled (%d waiting)", label, len(self.spool))
            return Outcome.SPOOLED
        log.warning("%s dropped", label)
        return Outcome.DROPPED

    def _drain(self) -> None:
        sent = 0
        while self._may_send():
            entry = self.spool.oldest()
            if entry is None:
                break
            body = self.spool.read(entry)
            if body is None:
                continue  # set aside by read()
            answer, reason = self._post(body)
            if answer is _Answer.OK:
                self.spool.remove(entry)
                sent += 1
            elif answer is _Answer.REFUSED:
                self.refused += 1
                self.spool.reject(entry, reason)
            else:
                break
        if sent:
            log.info(
                "%d spooled envelope(s) delivered, %d still waiting; %d dropped in all",
                sent,
                len(self.spool),
                self.spool.dropped,
            )
            self.spool.save_status()

    def _post(self, body: bytes) -> tuple[_Answer, str]:
        headers = {"Idempotency-Key": hashlib.sha256(body).hexdigest()}
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return self._later(f"{type(exc).__name__}: {exc}")
        status = response.status_code
        if 200 <= status < 300:
            try:
                msgspec.json.decode(response.content, type=Receipt)
            except msgspec.MsgspecError:
                return self._later(f"HTTP {status} but not a Seawall center's answer")
            self._up()
            self.delivered += 1
            return _Answer.OK, ""
        reason = _reason(response)
        if status in (408, 429) or status >= 500:
            return self._later(reason)
        self._up()
        if status == 401:
            self.fatal = TokenRefused(
                f"the center at {self.center} refused the token: {reason}",
                hint="create one with `seawall admin create-token NAME --role contributor`",
            )
            return _Answer.UNAUTHORIZED, reason
        return _Answer.REFUSED, reason

    def _later(self, reason: str) -> tuple[_Answer, str]:
        now = time.monotonic()
        if not self._down_since:
            self._down_since = now
            log.warning("center %s unavailable (%s): spooling", self.center, reason)
        self._backoff = min(self.max_backoff, self._backoff * 2 or 1.0)
        self._quiet_until = now + self._backoff
        self.spool.save_status(last_error=reason)
        return _Answer.LATER, reason

    def _up(self) -> None:
        if self._down_since:
            log.info(
                "center %s answers again after %.0f s",
                self.center,
                time.monotonic() - self._down_since,
            )
        self._down_since = 0.0
        self._backoff = 0.0
        self._quiet_until = 0.0
