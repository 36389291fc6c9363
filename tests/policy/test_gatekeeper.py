"""Gatekeeper compatibility: the five library suites as published, every engine; the
regorus import work-around; constraints' enforcement actions and policy errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.model import Status
from seawall.policy.engine import PolicyEngine
from seawall.policy.gatekeeper.rego import RegoProgram, inline_imports
from seawall.policy.gatekeeper.suite import check_assertions, run_suite
from seawall.policy.library import PolicyLibrary
from seawall.policy.manifests import parse_manifests
from tests.policy.support import GATEKEEPER

SUITES = sorted(GATEKEEPER.glob("*/*/suite.yaml"))


def seawall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seawall", *args], capture_output=True, text=True, timeout=120
    )


def test_the_five_samples_are_there() -> None:
    assert len(SUITES) == 5


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.parent.name)
def test_library_suite_passes_on_every_engine(suite: Path) -> None:
    results = list(run_suite(suite))
    assert results
    failures = [f"{r.label}: {r.detail}" for r in results if not r.passed]
    assert failures == []


def test_templates_with_cel_and_rego_are_checked_on_both() -> None:
    results = list(run_suite(GATEKEEPER / "pod-security-policy/host-namespaces/suite.yaml"))
    assert {r.engine for r in results} == {"Rego", "K8sNativeValidation"}


def test_verify_command_prints_cases_and_totals() -> None:
    result = seawall("policy", "verify", *map(str, SUITES))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "35 passed, 0 failed"
    assert any("allowedrepos / allowed-repos / all-disallowed [Rego]" in line for line in lines)


def test_verify_fails_and_says_why(tmp_path: Path) -> None:
    source = GATEKEEPER / "general" / "allowedrepos"
    suite = (source / "suite.yaml").read_text().replace("- violations: 3", "- violations: 2")
    (tmp_path / "suite.yaml").write_text(suite)
    (tmp_path / "template.yaml").write_text((source / "template.yaml").read_text())
    shutil.copytree(source / "samples", tmp_path / "samples")
    result = seawall("policy", "verify", str(tmp_path / "suite.yaml"))
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == "4 passed, 1 failed"
    assert "FAIL allowedrepos / allowed-repos / all-disallowed [Rego]: expected 2" in result.stdout


def test_verify_of_a_missing_suite_is_one_error_line(tmp_path: Path) -> None:
    result = seawall("policy", "verify", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("messages", "assertions", "ok"),
    [
        (["a"], [{"violations": "yes"}], True),
        ([], [{"violations": "yes"}], False),
        ([], [{"violations": "no"}], True),
        (["container x", "initContainer y"], [{"violations": 2}], True),
        (["container x", "initContainer y"], [{"message": "^init", "violations": 1}], True),
        (["container x"], [{"message": "init"}], False),
        (["a"], [{"violations": False}], False),
    ],
)
def test_assertions(messages: list[str], assertions: list[dict[str, object]], ok: bool) -> None:
    assert (check_assertions(messages, assertions) == "") is ok


def test_inline_imports_rewrites_calls_not_strings_or_fields() -> None:
    module = (
        "package p\n"
        "import data.lib.helpers.is_bad\n"
        "import data.lib.other as o\n"
        'violation[{"msg": msg}] {\n'
        "  is_bad(input.review.object)  # is_bad here is a comment\n"
        "  x := input.is_bad\n"
        "  o.check(x)\n"
        '  msg := "is_bad and o.check"\n'
        "}\n"
    )
    rewritten = inline_imports(module)
    assert "import" not in rewritten
    assert "data.lib.helpers.is_bad(input.review.object)" in rewritten
    assert "# is_bad here is a comment" in rewritten
    assert "input.is_bad" in rewritten
    assert "data.lib.other.check(x)" in rewritten
    assert '"is_bad and o.check"' in rewritten


def test_imported_library_functions_evaluate_in_regorus() -> None:
    program = RegoProgram(
        "package t\nimport data.lib.util.too_big\n"
        'violation[{"msg": "too big"}] { too_big(input.review.object.size) }\n',
        ["package lib.util\ntoo_big(n) { n > 10 }\n"],
    )
    assert program.violations({"review": {"object": {"size": 11}}}) == [{"msg": "too big"}]
    assert program.violations({"review": {"object": {"size": 3}}}) == []


@given(st.text(max_size=300))
def test_inline_imports_never_crashes_and_keeps_import_free_text(text: str) -> None:
    result = inline_imports(text)
    if "import" not in text:
        assert result == text


TEMPLATE = """
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sneedsowner}
spec:
  crd: {spec: {names: {kind: K8sNeedsOwner}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8sneedsowner
      violation[{"msg": "needs an owner label"}] { not input.review.object.metadata.labels.owner }
---
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sbroken}
spec:
  crd: {spec: {names: {kind: K8sBroken}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8sbroken
      violation[{"msg": msg}] { msg := no_such_function(input.review.object) }
"""


def library(constraints: str) -> PolicyLibrary:
    lib = PolicyLibrary()
    for obj in parse_manifests(TEMPLATE + constraints, "test"):
        lib.add(obj)
    lib.check()
    return lib


POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team}\nspec: {containers: []}\n"


@pytest.mark.parametrize("action", ["deny", "warn", "dryrun"])
def test_enforcement_action_is_carried_to_the_decision(action: str) -> None:
    lib = library(
        "---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sNeedsOwner\n"
        f"metadata: {{name: owner}}\nspec: {{enforcementAction: {action}}}\n"
    )
    engine = PolicyEngine(library=lib, builtin=False)
    (decision,) = engine.evaluate(parse_manifests(POD, "pod")[0])
    assert decision.action == action
    assert decision.finding.rule.id == "K8sNeedsOwner/owner"
    assert decision.finding.message == "needs an owner label"


def test_a_policy_that_errors_is_an_error_finding_not_a_crash() -> None:
    lib = library(
        "---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sBroken\n"
        "metadata: {name: broken}\n"
    )
    (decision,) = PolicyEngine(library=lib, builtin=False).evaluate(parse_manifests(POD, "pod")[0])
    assert decision.finding.status is Status.ERROR
    assert "no_such_function" in decision.finding.evidence


def test_unknown_enforcement_action_and_missing_template_are_input_errors() -> None:
    from seawall.errors import InputError

    with pytest.raises(InputError, match="enforcementAction"):
        library(
            "---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sNeedsOwner\n"
            "metadata: {name: x}\nspec: {enforcementAction: block}\n"
        )
    with pytest.raises(InputError, match="has no ConstraintTemplate"):
        library(
            "---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sMissing\n"
            "metadata: {name: x}\n"
        )
