"""Typed JSON decoding: nesting refused first, wrong types named by field, nothing else
escapes."""

from __future__ import annotations

import contextlib

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.errors import InputError, UnsafeInputError
from seawall.safety.jsondoc import (
    JsonLimitError,
    check_json,
    decode_json,
    decode_records,
    parse_json,
)


class _Statement(msgspec.Struct):
    vulnerability: str
    products: list[str] | None = None


class _Document(msgspec.Struct):
    statements: list[msgspec.Raw] | None = None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"statements": 1}', "F: field statements: expected list or null, got int"),
        (b'{"statements": "x"}', "F: field statements: expected list or null, got string"),
        (b"[1]", "F: expected object, got list"),
        (b'{"statements": [', "F: not valid JSON"),
    ],
)
def test_wrong_types_are_named_by_field(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        decode_json(data, "F", _Document)


def test_values_are_counted_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    # 22 values, counted as 23 (commas + opening brackets + 1), whatever the strings hold
    wide = b"[" + b'{"a": "x,[{"},' * 10 + b"{}]"
    assert len(parse_json(wide, max_values=23)) == 11
    with pytest.raises(JsonLimitError, match="JSON of more than 22 values"):
        parse_json(wide, max_values=22)
    monkeypatch.setenv("SEAWALL_MAX_JSON_VALUES", "5")
    with pytest.raises(UnsafeInputError, match="F: JSON of more than 5 values"):
        decode_json(wide, "F")


def test_nesting_is_refused_before_parsing() -> None:
    with pytest.raises(UnsafeInputError, match="nested deeper than 64 levels"):
        decode_json(b"[" * 100_000 + b"]" * 100_000, "F")


def test_records_decode_one_by_one() -> None:
    document = decode_json(
        b'{"statements": [{"vulnerability": 1}, {"vulnerability": "a"}, []]}', "F", _Document
    )
    good, skipped = decode_records(document.statements or (), _Statement, "F", "statement")
    assert [s.vulnerability for s in good] == ["a"]
    assert skipped == [
        "F: statement 1: field vulnerability: expected string, got int; skipped",
        "F: statement 3: expected object, got list; skipped",
    ]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_input_errors(data: bytes) -> None:
    for kind in (object, _Document, _Statement):
        with contextlib.suppress(InputError):
            decode_json(data, "F", kind)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["statements", "vulnerability", "products"]), _JSON))
def test_arbitrary_structures_raise_only_input_errors(value: dict[str, object]) -> None:
    data = msgspec.json.encode(value)
    for kind in (_Document, _Statement):
        with contextlib.suppress(InputError):
            decode_json(data, "F", kind)


def test_check_json_refuses_without_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    check_json(b"[1, 2]", "F")
    check_json(b"not json, left to the decoder", "F")
    monkeypatch.setenv("SEAWALL_MAX_JSON_VALUES", "2")
    with pytest.raises(UnsafeInputError, match="F: JSON of more than 2 values"):
        check_json(b"[1, 2, 3]", "F")
