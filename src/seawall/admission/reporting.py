"""Decisions sent to a Seawall center as they happen (``seawall admission serve --upload``).

Every decision is still logged as a JSON line; it is also queued and sent in batches (every
``interval`` seconds, or sooner once ``batch`` wait) as an ``admission`` envelope about the
cluster, with the usual idempotency key. Sending happens on a thread of its own, so a slow
or unreachable center never slows a review down. Bounded: at most ``capacity`` decisions
wait; beyond that the oldest are dropped, counted and said in the log. A batch the center
did not take is kept (within the bound) and sent again next time; the center stores each
review once (by cluster and review uid), so a batch sent twice changes nothing.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import IO

from seawall.admission.decide import DecisionLog
from seawall.contract.envelope import AdmissionDecision
from seawall.errors import SeawallError

log = logging.getLogger(__name__)


class ReportedDecisionLog(DecisionLog):
    """A decision log that also reports to a center."""

    def __init__(
        self,
        stream: IO[str],
        *,
        center: str,
        token: str,
        cluster: str,
        interval: float = 2.0,
        batch: int = 500,
        capacity: int = 10_000,
    ) -> None:
        super().__init__(stream)
        self.center, self.token, self.cluster = center, token, cluster
        self.interval, self.batch, self.capacity = interval, batch, capacity
        self.sent = 0
        self.dropped = 0
        self._waiting: deque[AdmissionDecision] = deque()
        self._lock = threading.Lock()
        self._due = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="seawall-report", daemon=True)

    def write(self, entry: AdmissionDecision) -> None:
        super().write(entry)
        with self._lock:
            self._keep([entry])
            full = len(self._waiting) >= self.batch
        if full:
            self._due.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Send what waits (one last try), then end the thread."""
        self._stop.set()
        self._due.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _keep(self, entries: list[AdmissionDecision], *, front: bool = False) -> None:
        """Queue ``entries`` (with the lock held), dropping the oldest beyond capacity."""
        if front:
            self._waiting.extendleft(reversed(entries))
        else:
            self._waiting.extend(entries)
        over = len(self._waiting) - self.capacity
        if over > 0:
            for _ in range(over):
                self._waiting.popleft()
            self.dropped += over
            log.warning("admission reporting: %d decision(s) dropped (%d in all): the "
                        "center is not taking them fast enough", over, self.dropped)  # fmt: skip

    def _run(self) -> None:
        while True:
            self._due.wait(self.interval)
            self._due.clear()
            stopping = self._stop.is_set()
            while self._send_one() and not stopping:
                pass
            if stopping:
                return

    def _send_one(self) -> bool:
        """Send one batch; True when one went and more may wait."""
        from seawall.report.envelope.admission import admission_envelope
        from seawall.report.envelope.runtime import sensor_asset
        from seawall.upload import upload

        with self._lock:
            batch = [self._waiting.popleft() for _ in range(min(self.batch, len(self._waiting)))]
        if not batch:
            return False
        try:
            upload(admission_envelope(sensor_asset(self.cluster), batch), self.center, self.token)
        except SeawallError as exc:
            with self._lock:
                self._keep(batch, front=True)
            log.warning("admission reporting: %s; %d decision(s) kept for the next try",
                        exc, len(batch))  # fmt: skip
            return False
        self.sent += len(batch)
        return True
