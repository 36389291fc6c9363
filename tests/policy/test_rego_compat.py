"""What Seawall rewrites in a Rego module before regorus loads it, so that templates behave as
OPA runs them: statements that open with ``(`` stay apart from the line before (regorus read
them as a call), OPA's deprecated ``re_match`` is ``regex.match``, and ``sprintf`` pads
missing arguments as Go's fmt does (regorus failed). Strings and comments are never
touched."""

from __future__ import annotations

import pytest

from seawall.policy.gatekeeper.rego import (
    RegoProgram,
    prepared,
    separate_statements,
    split_chained_bodies,
)

SPREAD = """package k8sspread
violation[{"msg": "spread too small"}] {
  spread := input.parameters.minimum
  (input.review.object.spec.max - input.review.object.spec.min) < spread
}
"""


def violations(module: str, obj: dict, parameters: dict) -> list:
    return RegoProgram(module).violations({"review": {"object": obj}, "parameters": parameters})


def test_a_statement_opening_with_a_parenthesis_is_its_own() -> None:
    assert violations(SPREAD, {"spec": {"min": 2, "max": 3}}, {"minimum": 2}) == [
        {"msg": "spread too small"}
    ]
    assert violations(SPREAD, {"spec": {"min": 1, "max": 5}}, {"minimum": 2}) == []


def test_re_match_is_regex_match() -> None:
    module = 'package m\nviolation[{"msg": "bad"}] { re_match("^a", input.review.object.name) }\n'
    assert violations(module, {"name": "abc"}, {}) == [{"msg": "bad"}]
    assert violations(module, {"name": "xbc"}, {}) == []


@pytest.mark.parametrize(
    "module",
    [
        "x { f(a,\n(b)) }",  # inside a call: a line break is only white space
        "x { y := [1,\n(2)] }",  # inside an array
        'x = "a\\"\n(" { true }',  # inside a string, after an escaped quote
        "x { true } # not code: a\n(b)",  # a comment, then a top-level line
        "x = `raw\n(` { true }",  # a raw string
        "x { not\n(input.a) }",  # after a keyword the statement goes on
    ],
)
def test_only_breaks_between_statements_of_a_body_are_touched(module: str) -> None:
    assert separate_statements(module) == module


def test_the_rewrite_keeps_every_line_where_it_was() -> None:
    rewritten = prepared(SPREAD)
    assert rewritten.count("\n") == SPREAD.count("\n")  # error positions stay right
    assert "spread := input.parameters.minimum;\n" in rewritten


def test_sprintf_pads_missing_arguments_as_go_does() -> None:
    module = (
        "package m\n"
        'violation[{"msg": msg}] { msg := sprintf("%v has %v of %v (100%%)", '
        "[input.review.object.name, input.parameters.count]) }\n"
    )
    assert violations(module, {"name": "web"}, {"count": 3}) == [
        {"msg": "web has 3 of %!v(MISSING) (100%)"}
    ]
    complete = 'package m\nviolation[{"msg": msg}] { msg := sprintf("%v/%v", ["a", "b"]) }\n'
    assert violations(complete, {}, {}) == [{"msg": "a/b"}]


CHAINED = """package k8schained
violation[{"msg": msg}] {
  input.review.object.a
  msg := "a"
} {
  input.review.object.b
  msg := "b"
} {
  input.review.object.c
  msg := "c"
}
limit = {"max": 3} { true }
"""


def test_chained_rule_bodies_are_rules_of_the_same_head() -> None:
    # OPA: three rules of one partial set; regorus refused the chain ("else cannot be used
    # with set rules") or read it as an else
    assert violations(CHAINED, {"a": 1, "c": 1}, {}) == [{"msg": "a"}, {"msg": "c"}]
    assert violations(CHAINED, {"b": 1}, {}) == [{"msg": "b"}]
    rewritten = split_chained_bodies(CHAINED)
    assert rewritten.count('violation[{"msg": msg}] {') == 3
    assert 'limit = {"max": 3} { true }' in rewritten  # an object in a head is no body


@pytest.mark.parametrize(
    "module",
    [
        "x = 1 { false } else = 2 { true }",  # else stays else
        'x = {"a": {"b": 1}} { true }',  # nested objects in a head
        "f(a) = {a: 1}",  # no body at all
    ],
)
def test_what_is_not_a_chained_body_is_left_alone(module: str) -> None:
    assert split_chained_bodies(module) == module


PERCENT_OR_NUMBER = """package k8spdb
violation[{"msg": msg}] {
  value := input.review.object.spec.minAvailable
  endswith(value, "%")
  msg := "a percentage"
}
violation[{"msg": msg}] {
  value := input.review.object.spec.minAvailable
  is_number(value)
  value > 1
  msg := "more than one"
}
"""


@pytest.mark.parametrize(
    ("min_available", "expected"),
    [("50%", ["a percentage"]), (3, ["more than one"]), (1, []), ({"x": 1}, [])],
)
def test_a_string_builtin_given_another_type_is_undefined_as_in_opa(
    min_available: object, expected: list[str]
) -> None:
    """OPA without strict built-in errors (Gatekeeper) makes endswith(3, "%") undefined, so
    the other rule decides; regorus alone failed the evaluation (the library's
    poddisruptionbudget template relies on OPA's behaviour)."""
    found = violations(PERCENT_OR_NUMBER, {"spec": {"minAvailable": min_available}}, {})
    assert [v["msg"] for v in found] == expected


def test_only_calls_are_guarded_so_contains_stays_a_keyword() -> None:
    module = (
        "package m\nimport future.keywords.contains\nimport future.keywords.if\n"
        'violation contains {"msg": "x"} if { contains(input.review.object.name, "a") }\n'
    )
    rewritten = prepared(module)
    assert "violation contains {" in rewritten
    assert "data.seawall_compat.guarded_contains(input" in rewritten
