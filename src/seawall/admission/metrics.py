"""Prometheus metrics of the webhook, in the text exposition format (no client library:
three counters and a histogram do not need one)."""

from __future__ import annotations

import bisect
import threading
from collections import Counter

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in pairs
    )
    return "{" + inner + "}" if inner else ""


class Metrics:
    """Thread-safe counters for requests, decisions, violations and latency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[tuple[str, str], ...]] = Counter()
        self.violations: Counter[tuple[tuple[str, str], ...]] = Counter()
        self._bucket_counts = [0] * (len(BUCKETS) + 1)
        self._sum = 0.0
        self._count = 0

    def count(self, decision: str) -> None:
        """A request that got no decision (malformed, too large)."""
        with self._lock:
            self.requests[(("decision", decision),)] += 1

    def record(self, decision: str, seconds: float, violations: list[tuple[str, str]]) -> None:
        with self._lock:
            self.requests[(("decision", decision),)] += 1
            for rule, action in violations:
                self.violations[(("rule", rule), ("action", action))] += 1
            self._bucket_counts[bisect.bisect_left(BUCKETS, seconds)] += 1
            self._sum += seconds
            self._count += 1

    def render(self) -> str:
        with self._lock:
            lines = [
                "# HELP seawall_admission_requests_total Admission requests by decision.",
                "# TYPE seawall_admission_requests_total counter",
                *(
                    f"seawall_admission_requests_total{_labels(k)} {v}"
                    for k, v in sorted(self.requests.items())
                ),
                "# HELP seawall_admission_violations_total Policy violations by rule and action.",
                "# TYPE seawall_admission_violations_total counter",
                *(
                    f"seawall_admission_violations_total{_labels(k)} {v}"
                    for k, v in sorted(self.violations.items())
                ),
                "# HELP seawall_admission_duration_seconds Time to decide a request.",
                "# TYPE seawall_admission_duration_seconds histogram",
            ]
            cumulative = 0
            for bound, count in zip((*BUCKETS, float("inf")), self._bucket_counts, strict=True):
                cumulative += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                lines.append(f'seawall_admission_duration_seconds_bucket{{le="{le}"}} {cumulative}')
            lines.append(f"seawall_admission_duration_seconds_sum {self._sum}")
            lines.append(f"seawall_admission_duration_seconds_count {self._count}")
        return "\n".join(lines) + "\n"
