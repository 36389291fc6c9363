"""``runtime watch --upload``: alerts sent to a Seawall center in batches, as ``alerts``
envelopes, from a background thread.

Alerts wait in a bounded queue; a batch leaves when it holds ``batch_size`` alerts or its
oldest alert has waited ``linger`` seconds. When the center cannot keep up the queue drops
and counts; a failed batch is logged once and counted. The center keys alerts by id, so an
alert sent again with its final count (when its fold window closes) updates, never doubles.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from seawall.contract.envelope import Asset
from seawall.errors import SeawallError
from seawall.model import Alert
from seawall.report.envelope.runtime import alerts_envelope
from seawall.runtime.alerts import Output
from seawall.upload import upload

log = logging.getLogger(__name__)


class UploadOutput(Output):
    """Batches of alerts to ``center``'s ingest, about ``asset``."""

    def __init__(
        self,
        center: str,
        token: str,
        asset: Asset,
        *,
        batch_size: int = 100,
        linger: float = 2.0,
        queue_size: int = 10_000,
    ) -> None:
        self.center, self.token, self.asset = center, token, asset
        self.batch_size, self.linger = batch_size, linger
        self.dropped = 0
        self.failed = 0
        self._queue: queue.Queue[Alert | None] = queue.Queue(queue_size)
        self._thread = threading.Thread(target=self._run, name="alert-upload", daemon=True)
        self._thread.start()

    def write(self, alert: Alert) -> None:
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        batch: list[Alert] = []
        deadline = 0.0
        finished = False
        while not finished:
            timeout = max(0.0, deadline - time.monotonic()) if batch else None
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            else:
                if item is None:
                    finished = True
                else:
                    if not batch:
                        deadline = time.monotonic() + self.linger
                    batch.append(item)
            if batch and (finished or len(batch) >= self.batch_size or item is None):
                self._send(batch)
                batch = []

    def _send(self, batch: list[Alert]) -> None:
        try:
            upload(alerts_envelope(self.asset, batch), self.center, self.token)
        except SeawallError as exc:
            self.failed += 1
            if self.failed == 1:
                log.warning("alert upload failed: %s (logged once)", exc)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)
