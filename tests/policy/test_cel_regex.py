"""CEL regular expressions on RE2: linear time on hostile input, Python's ``re`` semantics
where both agree, and a compile error (not an evaluation error) for what RE2 refuses."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.errors import InputError
from seawall.policy.gatekeeper.cel import CelProgram
from seawall.policy.gatekeeper.suite import check_assertions
from seawall.safety.regex import RegexError, compile_re2

CATASTROPHIC = "^([a-z0-9]+-?)+$"
HOSTILE_NAME = "a" * 5000 + "!"  # Python's re would backtrack on this for longer than ever


def violations(expression: str, name: str) -> list[dict[str, Any]]:
    program = CelProgram({"validations": [{"expression": expression, "message": "no"}]}, "t")
    return program.violations({"metadata": {"name": name}}, None, {}, {})


@pytest.mark.parametrize(
    "expression",
    [
        f'object.metadata.name.matches("{CATASTROPHIC}")',
        f'matches(object.metadata.name, "{CATASTROPHIC}")',
        f'object.metadata.name.find("{CATASTROPHIC}") != ""',
        f'object.metadata.name.findAll("{CATASTROPHIC}").size() > 0',
    ],
)
def test_a_catastrophic_pattern_on_a_hostile_name_is_fast(expression: str) -> None:
    started = time.perf_counter()
    assert violations(expression, HOSTILE_NAME) == [{"msg": "no"}]
    assert time.perf_counter() - started < 1
    assert violations(expression, "web-1") == []


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [(r"(a)\\1", "invalid escape sequence"), ("a(?=b)", "(?="), ("a(?<!b)", "(?<")],
)
def test_patterns_re2_refuses_fail_the_template_compilation(pattern: str, reason: str) -> None:
    with pytest.raises(InputError, match="not an RE2 regular expression") as caught:
        CelProgram({"validations": [{"expression": f'object.x.matches("{pattern}")'}]}, "tpl")
    assert str(caught.value).startswith("tpl: CEL expression")
    assert reason in str(caught.value)
    assert "backreferences and lookaround" in str(caught.value)


def test_a_computed_pattern_re2_refuses_is_an_evaluation_error() -> None:
    program = CelProgram({"validations": [{"expression": "object.x.matches(object.p)"}]}, "t")
    with pytest.raises(RuntimeError, match="invalid regular expression"):  # RE2's refusal
        program.violations({"x": "aa", "p": r"(a)\1"}, None, {}, {})


def test_find_all_honours_its_limit() -> None:
    assert violations('object.metadata.name.findAll("[0-9]", 2) == ["1", "2"]', "a1b2c3") == []
    assert violations('object.metadata.name.findAll("[0-9]") == ["1", "2", "3"]', "a1b2c3") == []
    assert violations('object.metadata.name.findAll("[0-9]", 0) == []', "a1b2c3") == []


def test_over_long_patterns_are_refused() -> None:
    with pytest.raises(RegexError, match="longer than"):
        compile_re2("a" * 10_000)


def test_suite_assertions_use_re2() -> None:
    assert check_assertions(["x" * 5000 + "!"], [{"message": CATASTROPHIC, "violations": 0}]) == ""
    with pytest.raises(InputError, match="not an RE2"):
        check_assertions(["a"], [{"message": "a(?=b)"}])


SIMPLE_PATTERNS = st.lists(
    st.sampled_from(["a", "b", "-", "[a-z]", "[0-9]+", "a*", "(ab)?", ".", "^", "$", "|", "x+?"]),
    min_size=1,
    max_size=6,
).map("".join)


@given(SIMPLE_PATTERNS, st.text(alphabet="ab-xz019", max_size=20))
def test_re2_finds_what_python_re_finds_for_common_syntax(pattern: str, text: str) -> None:
    expected = re.search(pattern, text)
    found = compile_re2(pattern).search(text)
    assert (found is None) == (expected is None)
    if expected is not None and found is not None:
        assert found.group(0) == expected.group(0)


@given(st.text(max_size=60), st.text(max_size=200))
def test_any_pattern_compiles_or_is_a_regex_error_and_searches_any_text(
    pattern: str, text: str
) -> None:
    try:
        regex = compile_re2(pattern)
    except RegexError as exc:
        assert "RE2" in str(exc)
    else:
        regex.search(text)
