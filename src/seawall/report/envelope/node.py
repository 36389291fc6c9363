"""A CIS Kubernetes Benchmark node audit as an envelope (kind ``node-audit``)."""

from __future__ import annotations

from seawall.contract.envelope import Asset, AssetType, Envelope, Kind, NodeDetails
from seawall.hardening.kubernetes.audit import BENCHMARK_ID, NodeAudit
from seawall.model import Severity
from seawall.report.envelope.benchmark import benchmark_envelope

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
    inventory = audit.inventory
    details = NodeDetails(
        cluster=cluster,
        api_server=str(inventory.get("api_server") or ""),
        layout=str(inventory.get("layout") or ""),
        role=str(inventory.get("role") or ""),
        benchmark=BENCHMARK_ID,
        components=dict(inventory.get("components") or {}),
        score_percent=float(audit.score.get("percent", 0.0)),
    )
    return benchmark_envelope(Kind.NODE_AUDIT, node_asset(audit, cluster), audit.findings,
                              NAMESPACE, threshold, produced_at, node=details)  # fmt: skip
