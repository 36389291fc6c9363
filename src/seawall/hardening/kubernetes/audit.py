"""Run the CIS Kubernetes Benchmark on a node: collect the facts once, run the checks of the
node's sections (1-4; section 5, the cluster's policies, is assessed through the API), and
return their Findings with the node's inventory and score."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from seawall.hardening.benchmark import BenchmarkAudit, Result, score, select_checks
from seawall.hardening.errors import NotApplicable, Unassessable
from seawall.hardening.kubernetes.collect import NodeOptions, collect
from seawall.hardening.kubernetes.facts import NodeFacts
from seawall.hardening.kubernetes.registry import CHECKS, Check
from seawall.model import Finding, Resource, Rule, Status
from seawall.rules import catalog

CATALOG = "cis-k8s"
BENCHMARK_ID = "cis-1.12"  # numbering as kube-bench's cfg/cis-1.12
BENCHMARK = "CIS Kubernetes Benchmark 1.12"
SECTIONS = tuple(f"seawall.hardening.kubernetes.section{n}" for n in range(1, 5))
NODE_TARGETS = frozenset({"master", "etcd", "controlplane", "node"})


def load_checks() -> dict[str, Check]:
    """Every registered check by id (importing the section modules registers them)."""
    for module in SECTIONS:
        importlib.import_module(module)
    return CHECKS


def node_rules() -> list[str]:
    """The ids of the checks a node audit runs, in benchmark order."""
    return [
        i for i, rule in catalog(CATALOG).items() if rule.mappings.get("target") in NODE_TARGETS
    ]


def _results(check: Check, rule: Rule, facts: NodeFacts) -> list[Result]:
    try:
        found = check.results(facts)
    except NotApplicable as exc:
        return [Result(Status.NOT_APPLICABLE, exc.reason)]
    except Unassessable as exc:
        return [Result(Status.ERROR, exc.reason)]
    except Exception as exc:  # a check's bug must not stop the others
        return [Result(Status.ERROR, f"check failed: {type(exc).__name__}: {exc}")]
    if rule.mappings.get("assessment") == "Manual":
        # the benchmark leaves the decision to people: a value Seawall would not accept is
        # for review (warn), not a failure
        found = [Result(Status.WARN, r.evidence, r.resource) if r.status is Status.FAIL else r
                 for r in found]  # fmt: skip
    return found


def run_checks(facts: NodeFacts, selected: list[str]) -> list[Finding]:
    """Findings of the ``selected`` checks on the node, in benchmark order."""
    rules = catalog(CATALOG)
    checks = load_checks()
    node = node_resource(facts)
    return [
        Finding(
            rule=rules[check_id],
            status=result.status,
            resource=result.resource or node,
            evidence=result.evidence,
        )
        for check_id in selected
        for result in _results(checks[check_id], rules[check_id], facts)
    ]


def node_resource(facts: NodeFacts) -> Resource:
    return Resource(kind="Node", name=facts.hostname or str(facts.files.root))


def inventory(facts: NodeFacts) -> dict[str, Any]:
    """What the node is: name, layout, role, and where each component's settings were read."""
    return {
        "name": facts.hostname,
        "machine_id": facts.machine_id,
        "api_server": facts.api_server,
        "root": str(facts.files.root),
        "layout": facts.layout.value,
        "layout_evidence": facts.layout_evidence,
        "role": facts.role.value,
        "role_evidence": facts.role_evidence,
        "components": {name: part.source for name, part in facts.components.items()},
        "kubelet_config": facts.kubelet_settings.config_file if facts.kubelet_settings else "",
        "unreadable": dict(facts.errors),
        "notes": list(facts.notes),
    }


@dataclass(frozen=True)
class NodeAuditOptions:
    node: NodeOptions = field(default_factory=NodeOptions)
    checks: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()


class NodeAudit(BenchmarkAudit):
    """A CIS Kubernetes Benchmark audit of one node."""


def audit_node(options: NodeAuditOptions) -> NodeAudit:
    """Assess the node: one snapshot, every selected check."""
    selected = select_checks(node_rules(), options.checks, options.skip)
    facts = collect(options.node)
    findings = run_checks(facts, selected)
    return NodeAudit(findings=findings, inventory=inventory(facts), score=score(findings))
