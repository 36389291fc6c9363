"""A CIS Docker Benchmark host audit as an envelope (kind ``host-audit``)."""

from __future__ import annotations

from typing import Any

import msgspec

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
    Container,
    Envelope,
    HostDetails,
    Kind,
)
from seawall.hardening.docker.audit import HostAudit
from seawall.model import Severity

NAMESPACE = "cis-docker-1.6"


def host_asset(inventory: dict[str, Any]) -> Asset:
    """The host by its Docker Engine ID (``name:NAME`` when the engine could not be asked:
    the center matches it to the host of that name)."""
    name = str(inventory.get("name") or inventory.get("endpoint") or "unknown")
    identity = str(inventory.get("id") or f"name:{name}")
    attributes = {
        key: str(inventory[key])
        for key in ("endpoint", "engine", "docker_version", "os")
        if inventory.get(key)
    }
    return Asset(type=AssetType.HOST, id=identity, name=name, attributes=attributes)


def host_details(audit: HostAudit) -> HostDetails:
    inventory = audit.inventory
    fields = {k: v for k, v in inventory.items() if k in HostDetails.__struct_fields__}
    fields["containers"] = msgspec.convert(inventory.get("containers") or [], tuple[Container, ...])
    fields["score_percent"] = float(audit.score.get("percent", 0.0))
    return msgspec.convert(fields, HostDetails)


def host_envelope(
    audit: HostAudit, threshold: Severity | None = None, produced_at: str = ""
) -> Envelope:
    """Every check's result (passes and not-applicable ones included) with its evidence."""
    asset = host_asset(audit.inventory)
    rules = {f.rule.id: rule_info(NAMESPACE, f.rule) for f in audit.findings}
    results = with_fingerprints(
        asset, (finding_result(f, rules[f.rule.id].id) for f in audit.findings)
    )
    return Envelope(
        kind=Kind.HOST_AUDIT,
        produced_at=produced_at or now(),
        tool=tool(),
        asset=asset,
        rules=tuple(rules.values()),
        results=results,
        summary=summarise(results, threshold),
        host=host_details(audit),
    )
