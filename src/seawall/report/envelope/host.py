"""A CIS Docker Benchmark host audit as an envelope (kind ``host-audit``)."""

from __future__ import annotations

from typing import Any

import msgspec

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
from seawall.report.envelope.benchmark import benchmark_envelope

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
    return benchmark_envelope(Kind.HOST_AUDIT, asset, audit.findings, NAMESPACE, threshold,
                              produced_at, host=host_details(audit))  # fmt: skip
