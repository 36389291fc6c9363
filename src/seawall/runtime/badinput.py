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

    def __init__(self, *, announce: bool = True) -> None:
        """``announce``: log the first of each kind as it happens (a long-running watch);
        otherwise the caller reports :meth:`summary` at the end (a replay)."""
        self.counts: Counter[str] = Counter()
        self.first: dict[str, str] = {}  # kind -> the detail of its first occurrence
        self._announce = announce
        self._lock = threading.Lock()

    def __call__(self, kind: str, detail: str = "") -> None:
        with self._lock:
            self.counts[kind] += 1
            first = self.counts[kind] == 1
            if first:
                self.first[kind] = detail[:200]
        if first and self._announce:
            log.warning(
                "skipped %s%s (logged once; further ones are counted)",
                kind,
                f": {detail[:200]}" if detail else "",
            )

    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self, details: bool = False) -> str:
        """``3 malformed JSON, 1 non-audit JSON``; with ``details``, each with its first
        occurrence's detail (``3 malformed JSON (the first: ...)``)."""

        def one(kind: str, count: int) -> str:
            detail = self.first.get(kind) if details else ""
            return f"{count} {kind}" + (f" (the first: {detail})" if detail else "")

        return ", ".join(one(kind, n) for kind, n in sorted(self.counts.items()))
