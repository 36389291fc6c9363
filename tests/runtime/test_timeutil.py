"""Event times come from untrusted events: any number converts to a time or to nothing."""

from __future__ import annotations

import math

from hypothesis import example, given, settings
from hypothesis import strategies as st

from seawall.runtime.timeutil import epoch_from_iso, iso_from_epoch


def test_a_time_converts_both_ways() -> None:
    assert iso_from_epoch(1714564800.5) == "2024-05-01T12:00:00.500000Z"
    assert epoch_from_iso("2024-05-01T12:00:00.500000Z") == 1714564800.5


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**20), 10**20))
@example(-30610224001)  # the year 999: glibc's strftime wrote "999-12-31", unreadable
@example(253402300799.9999999)  # rounds into the year 10000
@example(-62135596800)  # the first second of the year 1
@settings(max_examples=500)
def test_any_number_is_a_time_or_nothing(seconds: float) -> None:
    text = iso_from_epoch(seconds)
    if text:
        assert math.isclose(epoch_from_iso(text), seconds, abs_tol=1e-3, rel_tol=1e-9)
    else:
        assert math.isnan(seconds) or not -62135596800 <= seconds <= 253402300799
