"""``runtime watch --upload``: alerts sent to a Seawall center in batches, as ``alerts``
envelopes, from a background thread.

A batch leaves when it holds ``batch_size`` alerts or its first alert has waited ``linger``
seconds. The center keys alerts by id, so an alert sent again with its final count (when its
fold window closes) updates, never doubles.
"""

from __future__ import annotations

from seawall.contract.envelope import Asset
from seawall.model import Alert
from seawall.report.envelope.runtime import alerts_envelope
from seawall.runtime.alerts import QueuedOutput
from seawall.upload import upload


class UploadOutput(QueuedOutput):
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
        super().__init__(
            "alert-upload", queue_size=queue_size, batch_size=batch_size, linger=linger
        )

    def deliver(self, batch: list[Alert]) -> None:
        upload(alerts_envelope(self.asset, batch), self.center, self.token)
