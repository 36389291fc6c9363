"""The rule language: parsing, compiling, operators, lists, macros, exceptions, overrides."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.errors import InputError
from seawall.runtime.rules.loader import RulePack, load_rules
from seawall.runtime.rules.parser import (
    And,
    Compare,
    ConditionError,
    Exists,
    MacroRef,
    Not,
    Or,
    parse_condition,
)
from seawall.runtime.sources.k8s_audit import AuditParser
from tests.runtime.conftest import K8S, alerts_for, rule_ids
from tests.support.hostile import alias_bomb


def event(**overrides: object) -> bytes:
    """A minimal audit event (JSON line) with top-level overrides."""
    import json

    base: dict[str, object] = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "auditID": "a1",
        "stage": "ResponseComplete",
        "verb": "get",
        "requestURI": "/api/v1/namespaces/default/pods/web",
        "user": {"username": "alice", "groups": ["dev", "system:authenticated"]},
        "sourceIPs": ["10.1.2.3"],
        "objectRef": {"resource": "pods", "namespace": "default", "name": "web"},
        "responseStatus": {"code": 200},
        "stageTimestamp": "2024-05-01T10:00:00.000000Z",
    }
    base.update(overrides)
    return json.dumps(base).encode()


def compile_one(condition: str, extra: str = "") -> RulePack:
    pack = RulePack()
    pack.add_text(
        extra
        + f"""
- rule: probe
  source: k8s_audit
  condition: {condition!r}
""",
        "test",
    )
    return pack


def matches(condition: str, line: bytes, extra: str = "") -> bool:
    rules = compile_one(condition, extra).compile()
    return bool(alerts_for(AuditParser().parse(line), rules))


def test_parse_precedence_and_lists() -> None:
    tree = parse_condition("a = 1 or b in (x, 'y z') and not c exists")
    assert tree == Or(
        (
            Compare("a", "=", (Lit("1"),), False),
            And((Compare("b", "in", (Lit("x"), Lit("y z", True)), True), Not(Exists("c")))),
        )
    )
    assert parse_condition("(my_macro)") == MacroRef("my_macro")


def Lit(text: str, quoted: bool = False):
    from seawall.runtime.rules.parser import Literal

    return Literal(text, quoted)


@pytest.mark.parametrize(
    "text",
    ["", "a =", "a = (x,", "(a = b", "a = b)", "and", "a = b or", "a == = b", "not", "a in ()"],
)
def test_malformed_conditions_are_errors(text: str) -> None:
    with pytest.raises(ConditionError):
        parse_condition(text)


def test_deep_nesting_is_refused_not_a_crash() -> None:
    with pytest.raises(ConditionError):
        parse_condition("(" * 5000 + "a = b" + ")" * 5000)
    with pytest.raises(ConditionError):
        parse_condition("not " * 5000 + "a = b")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_parser_never_fails_other_than_condition_error(text: str) -> None:
    with contextlib.suppress(ConditionError):
        parse_condition(text)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "=", "in", "(", ")", ",", "and", "or", "not", "'q'", "exists", "b"]),
        max_size=30,
    )
)
def test_parser_on_token_soup(tokens: list[str]) -> None:
    with contextlib.suppress(ConditionError):
        parse_condition(" ".join(tokens))


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("ka.verb = get", True),
        ("ka.verb != get", False),
        ("ka.verb in (create, get)", True),
        ("ka.user.name startswith al", True),
        ("ka.user.name endswith (ce, xx)", True),
        ("ka.user.name contains lic", True),
        ("ka.user.name icontains LIC", True),
        ("ka.user.name glob 'a*e'", True),
        ("ka.user.name matches '^a.i'", True),
        ("ka.uri under /api/v1/namespaces", True),
        ("ka.uri under /api/v1/names", False),
        ("ka.response.code >= 200 and ka.response.code < 300", True),
        ("ka.response.code > 200", False),
        ("ka.user.groups = dev", True),  # multi-valued: any value
        ("ka.user.groups != dev", False),  # none may equal
        ("ka.user.groups != admins", True),
        ("ka.sourceips in (10.0.0.0/8)", True),
        ("ka.sourceips = 10.1.2.3", True),
        ("ka.sourceips in (192.168.0.0/16, 172.16.0.0/12)", False),
        ("ka.impuser.name exists", False),
        ("not ka.impuser.name exists", True),
        ("ka.target.subresource = ''", True),
    ],
)
def test_operators(condition: str, expected: bool) -> None:
    assert matches(condition, event()) is expected


def test_missing_field_makes_comparisons_false_and_negations_true() -> None:
    line = event(responseStatus=None)
    assert not matches("ka.response.code >= 400", line)
    assert not matches("ka.response.code < 400", line)
    assert matches("not ka.response.code >= 400", line)


def test_lists_macros_and_nested_lists() -> None:
    extra = """
- list: readers
  items: [get, list]
- list: all_verbs
  items: [readers, create]
- macro: is_read
  condition: ka.verb in (all_verbs)
"""
    assert matches("is_read and ka.user.name in (alice)", event(), extra)
    assert not matches("is_read", event(verb="delete"), extra)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("ka.nope = 1", "unknown field"),
        ("undefined_macro", "neither a macro"),
        ("ka.response.code = abc", "is a number"),
        ("ka.verb matches '('", "bad regular expression"),
        ("ka.verb matches 'a(?=b)'", "not an RE2 regular expression"),
        ("ka.sourceips in (not-an-ip)", "not an IP"),
        ("ka.verb = (a, b) and ka.response.code < (1, 2)", "takes one value"),
        ("ka.req.pod.host_network contains x", "does not apply"),
    ],
)
def test_load_time_errors_name_the_rule(condition: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        compile_one(condition).compile()
    assert "probe" in str(info.value)
    assert message in str(info.value)


def test_a_catastrophic_regex_matches_in_linear_time() -> None:
    started = time.perf_counter()
    hostile = event(user={"username": "a" * 5000 + "!", "groups": []})
    assert not matches("ka.user.name matches '^([a-z0-9]+-?)+$'", hostile)
    assert time.perf_counter() - started < 1


def test_recursive_macro_is_an_error() -> None:
    extra = "- macro: loop\n  condition: loop and ka.verb = get\n"
    with pytest.raises(InputError, match="refers to itself"):
        compile_one("loop", extra).compile()


def test_exceptions_suppress_matching_events() -> None:
    pack = RulePack()
    pack.add_text(
        """
- rule: probe
  source: k8s_audit
  condition: ka.verb = get
  exceptions:
    - name: known
      fields: [ka.user.name, ka.target.namespace]
      values: [[alice, default]]
    - name: groups
      fields: [ka.user.groups]
      comps: [in]
      values: [[ops, sre]]
""",
        "test",
    )
    rules = pack.compile()
    assert not alerts_for(AuditParser().parse(event()), rules)
    bob = event(user={"username": "bob", "groups": ["dev"]})
    assert alerts_for(AuditParser().parse(bob), rules)
    ops = event(user={"username": "bob", "groups": ["ops"]})
    assert not alerts_for(AuditParser().parse(ops), rules)


def test_user_file_tunes_builtin_rules(tmp_path: Path) -> None:
    user = tmp_path / "mine.yaml"
    user.write_text(
        """
- rule: k8s-exec-attach
  exceptions:
    - name: allowed_users
      values: [minikube-user]
- rule: k8s-cluster-admin-binding
  enabled: false
- list: k8s_pentest_user_agents
  append: true
  items: [my-scanner]
- rule: my-own
  title: Secrets listed
  source: k8s_audit
  severity: high
  condition: ka.verb = list and ka.target.resource = secrets
"""
    )
    rules = load_rules([user])
    assert "k8s-cluster-admin-binding" not in rules.rules
    assert rules.rules["my-own"].rule.severity.name == "HIGH"
    exec_events = AuditParser().parse((K8S / "exec_pod.json").read_bytes())
    assert alerts_for(exec_events, rules) == []
    scanner = AuditParser().parse(event(userAgent="my-scanner/1.0"))
    assert rule_ids(alerts_for(scanner, rules)) == ["k8s-pentest-tool"]
    listing = AuditParser().parse(event(verb="list", objectRef={"resource": "secrets"}))
    assert rule_ids(alerts_for(listing, rules)) == ["my-own"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- rule: x\n  condition: ka.verb = get\n", "unknown source"),
        ("- rule: ghost\n  enabled: false\n", "no rule to modify"),
        ("- rule: x\n  source: k8s_audit\n  condition: a\n  typo: 1\n", "unknown keys"),
        ("- nothing: here\n", "needs a 'list'"),
        ("{a: b}", "is a list"),
        ("- [unclosed\n", "invalid YAML"),
        (alias_bomb(), "more than 2000000 nodes"),
        ("- rule: x\n  tags: [!!python/object:os.system x]\n", "unsupported tag"),
        ("- rule: x\n---\n- rule: y\n", "more than 1 documents"),
        (
            "- rule: x\n  source: k8s_audit\n  condition: ka.verb = get\n  severity: dire\n",
            "severity",
        ),
    ],
)
def test_bad_rule_files(text: str, message: str) -> None:
    pack = RulePack()
    with pytest.raises(InputError, match=message):
        pack.add_text(text, "bad.yaml")
        pack.compile()


def test_only_regular_rule_files_are_read(tmp_path: Path) -> None:
    fifo = tmp_path / "rules.yaml"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(InputError, match="not a regular file"):
            RulePack().add_file(path)


def test_index_hands_events_only_rules_that_can_match() -> None:
    rules = load_rules()
    index = rules.indexes["k8s_audit"]
    benign = {r.rule.id for r in index.candidates(("get", "configmaps"))}
    assert "k8s-privileged-container" not in benign
    assert "k8s-anonymous-request-allowed" in benign  # looks at every request
    creates = {r.rule.id for r in index.candidates(("create", "pods"))}
    assert {"k8s-privileged-container", "k8s-sensitive-mount"} <= creates
    assert "k8s-cluster-admin-binding" not in creates


def test_output_template_and_evidence() -> None:
    rules = compile_one("ka.verb = get").compile()
    alerts = alerts_for(AuditParser().parse(event()), rules)
    assert alerts[0].evidence["ka.verb"] == "get"
    assert alerts[0].evidence["message"] == "probe"
