"""Kubernetes policy results of manifests or a cluster as an envelope (kind ``k8s-scan``)."""

from __future__ import annotations

from collections.abc import Sequence

from seawall.contract.build import (
    finding_result,
    now,
    rule_info,
    summarise,
    tool,
    with_fingerprints,
)
from seawall.contract.envelope import (
    Asset,
    AssetType,
    Envelope,
    Kind,
    RuleInfo,
    Workload,
)
from seawall.model import Finding, Rule, Severity
from seawall.policy.objects import KubeObject
from seawall.rules import catalog

BUILTIN_NAMESPACE = "k8s"
GATEKEEPER_NAMESPACE = "gatekeeper"


def cluster_asset(name: str, uid: str = "", server: str = "") -> Asset:
    """A live cluster by its ``kube-system`` namespace UID; manifests scanned from files, or
    a cluster whose UID is not known, by name (``name:NAME``: the center matches it to the
    cluster of that name)."""
    attributes = {"source": "cluster" if uid else "manifests"}
    if server:
        attributes["server"] = server
    return Asset(
        type=AssetType.CLUSTER,
        id=uid or f"name:{name}",
        name=name,
        attributes=attributes,
    )


def workload(obj: KubeObject) -> Workload:
    resource = obj.resource()
    return Workload(
        kind=obj.kind,
        name=obj.name,
        namespace=obj.namespace,
        uid=resource.id,
        api_version=obj.api_version,
        images=tuple(dict.fromkeys(c.image for c in obj.containers if c.image)),
        labels=dict(obj.labels),
    )


def _namespaced(rule: Rule, builtin: frozenset[str]) -> RuleInfo:
    return rule_info(BUILTIN_NAMESPACE if rule.id in builtin else GATEKEEPER_NAMESPACE, rule)


def k8s_envelope(
    asset: Asset,
    objects: Sequence[KubeObject],
    findings: Sequence[Finding],
    threshold: Severity | None = None,
    produced_at: str = "",
) -> Envelope:
    """Every policy result on every object (passes included), and the objects themselves."""
    builtin = frozenset(catalog("k8s")) | frozenset(catalog("k8s-cluster"))
    rules = {f.rule.id: _namespaced(f.rule, builtin) for f in findings}
    results = with_fingerprints(asset, (finding_result(f, rules[f.rule.id].id) for f in findings))
    return Envelope(
        kind=Kind.K8S_SCAN,
        produced_at=produced_at or now(),
        tool=tool(),
        asset=asset,
        rules=tuple(rules.values()),
        results=results,
        summary=summarise(results, threshold),
        workloads=tuple(workload(o) for o in objects),
    )
