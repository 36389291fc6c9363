"""The nesting check agrees with a real parser's depth on arbitrary JSON, whatever the
strings hold (brackets, quotes, backslashes), and refuses deep documents fast."""

from __future__ import annotations

import json
import time
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from seawall.safety.nesting import json_too_deep

TEXT = st.text(alphabet=st.sampled_from('ab[]{}"\\/ \u00e9'), max_size=8)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=200,
)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


@given(VALUES, st.integers(min_value=0, max_value=8))
def test_agrees_with_the_real_depth(value: Any, limit: int) -> None:
    data = json.dumps(value, ensure_ascii=False).encode()
    assert json_too_deep(data, limit) == (depth(value) > limit)


def test_a_hundred_thousand_levels_are_refused_quickly() -> None:
    for opening, closing in ((b"[", b"]"), (b'{"a":', b"}")):
        data = opening * 100_000 + b"1" + closing * 100_000
        started = time.perf_counter()
        assert json_too_deep(data)
        assert time.perf_counter() - started < 5  # linear: about 0.1 s here


def test_unbalanced_input_is_judged_by_how_deep_a_parser_would_descend() -> None:
    # msgspec recurses into 100,000 unclosed brackets before it finds the end of the data
    assert json_too_deep(b"[" * 100_000)
    assert json_too_deep(b"[" * 100, 10)
    assert json_too_deep(b"[" * 100 + b"}" + b"]" * 100, 10)
    assert not json_too_deep(b"[" * 10, 10)
    assert not json_too_deep(b"]]]]{", 2)
