"""Every built-in policy against its manifest fixtures: allowed objects pass the rule,
denied ones fail it with evidence and a remediation, and the patch given fixes the object."""

from __future__ import annotations

import json

import pytest

from seawall.model import Status
from seawall.policy.builtin import builtin_checks
from seawall.policy.manifests import load_manifests
from seawall.policy.objects import normalise
from seawall.rules import catalog
from tests.policy.support import BUILTIN, EXPECT, apply_patch, fixture_engine

RULES = sorted(catalog("k8s"))
ENGINE = fixture_engine()
# Patches that carry a placeholder for the operator to fill in (a version, a host, a role).
PLACEHOLDER_FIXES = {
    "bp-latest-tag",
    "bp-ingress-https",
    "bp-default-namespace",
    "rbac-cluster-admin-binding",
    "image-vulnerabilities",
    "bp-naked-pod",
    "bp-secrets-as-env",  # no patch: the application must read a file instead
}


def test_every_rule_has_a_check_and_a_fixture() -> None:
    assert set(builtin_checks()) == set(RULES)
    assert {p.stem for p in BUILTIN.glob("*.yaml")} == set(RULES)


def test_catalog_entries_are_complete() -> None:
    for rule in catalog("k8s").values():
        assert rule.title and rule.rationale and rule.remediation and rule.references, rule.id
        assert rule.mappings, rule.id


@pytest.mark.parametrize("rule_id", RULES)
def test_fixture_verdicts(rule_id: str) -> None:
    objects = load_manifests([str(BUILTIN / f"{rule_id}.yaml")])
    expectations = {obj.annotations[EXPECT] for obj in objects}
    assert {"allowed", "denied"} <= expectations
    for obj in objects:
        findings = [d.finding for d in ENGINE.evaluate(obj) if d.finding.rule.id == rule_id]
        expected = obj.annotations[EXPECT]
        label = f"{obj.kind} {obj.name}"
        if expected == "allowed":
            assert findings == [], f"{label}: {[f.evidence for f in findings]}"
        elif expected == "warned":
            assert findings and all(f.status is Status.WARN for f in findings), label
        else:
            assert findings and all(f.status is Status.FAIL for f in findings), label
            for finding in findings:
                assert finding.evidence and finding.message and finding.fix, label
                assert finding.resource.kind == obj.kind and finding.resource.name == obj.name


@pytest.mark.parametrize("rule_id", sorted(set(RULES) - PLACEHOLDER_FIXES))
def test_remediation_patch_fixes_the_object(rule_id: str) -> None:
    for obj in load_manifests([str(BUILTIN / f"{rule_id}.yaml")]):
        if obj.annotations[EXPECT] != "denied":
            continue
        raw = dict(obj.raw)
        for _ in range(10):  # one finding per field: apply them one at a time
            findings = [
                d.finding for d in ENGINE.evaluate(normalise(raw)) if d.finding.rule.id == rule_id
            ]
            if not findings:
                break
            patch = findings[0].remediation.removeprefix("JSON patch: ")
            raw = apply_patch(raw, json.loads(patch))
        else:
            pytest.fail(f"{obj.kind} {obj.name}: the patches do not fix {rule_id}")


def test_docs_explain_every_rule() -> None:
    from tests.policy.support import FIXTURES

    docs = (FIXTURES.parents[2] / "docs" / "kubernetes.md").read_text()
    for rule in catalog("k8s").values():
        assert f"`{rule.id}`" in docs and rule.rationale in docs, rule.id
