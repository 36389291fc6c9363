"""The safe YAML loader: JSON-like values like PyYAML's safe loader on real manifests, bounded
on hostile input (aliases, depth, huge numbers, tags), never a crash on arbitrary bytes."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.safety.yaml import YamlError, load_yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize(
    "path",
    sorted((FIXTURES / "policy").rglob("*.yaml"))[:60],
    ids=lambda p: str(p.relative_to(FIXTURES)),
)
def test_real_manifests_read_as_the_safe_loader_reads_them(path: Path) -> None:
    text = path.read_text()
    try:
        expected = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        pytest.skip("not YAML PyYAML reads either")
    assert load_yaml(text) == _no_timestamps(expected)


def _no_timestamps(value: object) -> object:
    """PyYAML builds dates; Seawall keeps them as written (JSON has no dates)."""
    import datetime as dt

    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _no_timestamps(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_timestamps(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("built: 2024-13-45", {"built": "2024-13-45"}),  # not a date: an annotation
        ("when: 2024-01-02", {"when": "2024-01-02"}),
        ("port: 8080", {"port": 8080}),
        ("mode: 0644", {"mode": 420}),
        ("exponent: 1e3", {"exponent": "1e3"}),  # YAML 1.1: a float has a dot
        ("version: 08", {"version": "08"}),
        ("ratio: 1.5", {"ratio": 1.5}),
        ("on: yes", {True: True}),
        ('quoted: "yes"', {"quoted": "yes"}),
        ("empty:", {"empty": None}),
        ("block: |\n  text\n", {"block": "text\n"}),
        ("dot: ._", {"dot": "._"}),  # found by the fuzz target: no digit, so not a float
        ("hex: 0x_", {"hex": "0x_"}),
        ("under: 1_000", {"under": 1000}),
    ],
)
def test_scalars_resolve_as_json_would(text: str, value: object) -> None:
    assert load_yaml(text) == [value]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!int abc", "'abc' is not a valid int"),
        ("a: " + "9" * 5000, "integer of more than 100 digits"),
        ("a: !!python/object/apply:os.system [ls]", "unsupported tag"),
        ("a: !!binary aGk=", None),  # kept as the text it is
        ("a: *nowhere", "unknown alias"),
        ("? [a]\n: b", "mapping keys must be scalars"),
        ("[" * 100_000, "nested deeper than 64 levels"),
        ("{a: " * 100_000, "nested deeper than 64 levels"),
    ],
)
def test_hostile_documents_give_one_clear_error(text: str, message: str | None) -> None:
    if message is None:
        assert load_yaml(text) == [{"a": "aGk="}]
        return
    with pytest.raises(YamlError, match=message):
        load_yaml(text)


def test_alias_amplification_stops_at_the_budget() -> None:
    """A 1 KB billion-laughs document: refused within the node budget, in well under a second
    and without the gigabytes PyYAML's loader would build."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        this, last = chr(97 + i), chr(96 + i)
        lines.append(f"{this}: &{this} [{', '.join(['*' + last] * 9)}]")
    bomb = "\n".join(lines)
    assert len(bomb) < 1024
    started = time.perf_counter()
    with pytest.raises(YamlError, match="more than 2000000 nodes"):
        load_yaml(bomb)
    assert time.perf_counter() - started < 10
    # a few legitimate aliases are expanded
    assert load_yaml("base: &b {x: 1}\nother: *b") == [{"base": {"x": 1}, "other": {"x": 1}}]


def test_strings_mode_keeps_versions_as_written() -> None:
    assert load_yaml("lockfileVersion: 5.4\nok: true\nn: 3", strings=True) == [
        {"lockfileVersion": "5.4", "ok": True, "n": "3"}
    ]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    with contextlib.suppress(YamlError):
        load_yaml(data)


NUMBERISH = st.text(alphabet="0123456789._-+xXeEabcfo", max_size=12)


@settings(max_examples=500, deadline=None)
@given(NUMBERISH)
def test_number_like_scalars_are_numbers_or_strings_never_a_crash(text: str) -> None:
    """Plain scalars near the number forms resolve to a number or stay text; tagged ones
    are a number or a clear error."""
    with contextlib.suppress(YamlError):
        assert isinstance(load_yaml(f"a: {text}")[0]["a"], int | float | str | None)
    for tag in ("!!int", "!!float"):
        with contextlib.suppress(YamlError):
            assert isinstance(load_yaml(f"a: {tag} {text}")[0]["a"], int | float)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(JSONISH)
def test_what_pyyaml_writes_reads_back(value: object) -> None:
    assert load_yaml(yaml.safe_dump(value)) == [value]


@pytest.mark.parametrize(
    "text",
    [
        "base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\n",
        "a: &a {k: 1}\nb: &b {k: 2, j: 3}\nc:\n  <<: [*a, *b]\n  z: 0\n",
        "x:\n  <<: {a: 1, c: 1}\n  <<: {b: 2, c: 2}\n",
        "d: &d\n  <<: {a: 1}\n  b: 2\ne: *d\n",
        'x: {"<<": {a: 1}}\n',
    ],
)
def test_merge_keys_merge_as_pyyaml_merges_them(text: str) -> None:
    assert load_yaml(text) == [yaml.safe_load(text)]


def test_a_merge_of_anything_but_mappings_is_an_error() -> None:
    for text in ("x:\n  <<: 3\n", "x:\n  <<: [{a: 1}, 1]\n"):
        with pytest.raises(YamlError, match="<< merges a mapping"):
            load_yaml(text)
