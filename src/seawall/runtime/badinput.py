"""Counting bad input: every kind of problem is counted, logged once, and skipped.

A watcher fed by an API server or a log file must never die on a malformed line, and must
not flood its own log either: the first occurrence of each kind is logged with a sample,
later ones only counted (``seawall runtime replay`` prints the counts at the end).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

log = logging.getLogger("seawall.runtime")


class BadInput:
    """Thread-safe counter of skipped input by kind."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, kind: str, detail: str = "") -> None:
        with self._lock:
            self.counts[kind] += 1
            first = self.counts[kind] == 1
        if first:
            log.warning(
                "skipped %s%s (logged once; further ones are counted)",
                kind,
                f": {detail[:200]}" if detail else "",
            )

    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items()))
