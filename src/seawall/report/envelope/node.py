"""A CIS Kubernetes Benchmark node audit as an envelope (kind ``node-audit``)."""

from __future__ import annotations

from seawall.contract.build import (
    finding_result,
    now,
    rule_info,
    summarise,
    tool,
    with_fingerprints,
)
from seawall.contract.envelope import Asset, AssetType, Envelope, Kind, NodeDetails
from seawall.hardening.kubernetes.audit import BENCHMARK_ID, NodeAudit
from seawall.model import Severity

NAMESPACE = "cis-k8s-1.12"


def node_asset(audit: NodeAudit, cluster: str = "") -> Asset:
    """The node by its machine id (``name:NAME`` when it has none: the center matches it to
    the node of that name), with its cluster's name as an attribute."""
    inventory = audit.inventory
    name = str(inventory.get("name") or "unknown")
    identity = str(inventory.get("machine_id") or f"name:{name}")
    attributes = {"cluster": cluster} if cluster else {}
    for key in ("layout", "role"):
        if inventory.get(key):
            attributes[key] = str(inventory[key])
    return Asset(type=AssetType.NODE, id=identity, name=name, attributes=attributes)


def node_envelope(
    audit: NodeAudit, threshold: Severity | None = None, cluster: str = "", produced_at: str = ""
) -> Envelope:
    """Every check's result (passes and not-applicable ones included) with its evidence."""
    asset = node_asset(audit, cluster)
    rules = {f.rule.id: rule_info(NAMESPACE, f.rule) for f in audit.findings}
    results = with_fingerprints(
        asset, (finding_result(f, rules[f.rule.id].id) for f in audit.findings)
    )
    inventory = audit.inventory
    return Envelope(
        kind=Kind.NODE_AUDIT,
        produced_at=produced_at or now(),
        tool=tool(),
        asset=asset,
        rules=tuple(rules.values()),
        results=results,
        summary=summarise(results, threshold),
        node=NodeDetails(
            cluster=cluster,
            api_server=str(inventory.get("api_server") or ""),
            layout=str(inventory.get("layout") or ""),
            role=str(inventory.get("role") or ""),
            benchmark=BENCHMARK_ID,
            components=dict(inventory.get("components") or {}),
            score_percent=float(audit.score.get("percent", 0.0)),
        ),
    )
