"""Event times: every source's timestamps to ISO 8601 UTC text and back to epoch seconds."""

from __future__ import annotations

import datetime as dt
import re

_FRACTION = re.compile(r"\.(\d+)")


def iso_from_epoch(seconds: float) -> str:
    """``2024-05-01T12:00:00.123456Z`` for epoch ``seconds``; "" when no date has that time
    (an event's own time is untrusted: NaN, or beyond the years 1 to 9999)."""
    try:
        stamp = dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return ""
    # isoformat, not strftime: glibc writes the year 999 as "999", which no parser reads back
    return stamp.isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def epoch_from_iso(text: str) -> float:
    """Epoch seconds of an ISO 8601 time (fractions beyond microseconds are cut); 0 if bad."""
    if not text:
        return 0.0
    cleaned = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text.strip(), count=1)
    try:
        stamp = dt.datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()
