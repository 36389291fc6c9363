"""A benchmark audit (CIS Docker of a host, CIS Kubernetes of a node) as an envelope: every
check's result, passes and not-applicable ones included, with its evidence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seawall.contract.build import (
    finding_result,
    now,
    rule_info,
    summarise,
    tool,
    with_fingerprints,
)
from seawall.contract.envelope import Asset, Envelope, Kind
from seawall.model import Finding, Severity


def benchmark_envelope(
    kind: Kind,
    asset: Asset,
    findings: Sequence[Finding],
    namespace: str,
    threshold: Severity | None = None,
    produced_at: str = "",
    **payload: Any,
) -> Envelope:
    """The envelope of ``kind`` about ``asset``: the rules under ``namespace`` (the
    benchmark and its version), the results, their summary, and the kind's ``payload``."""
    rules = {f.rule.id: rule_info(namespace, f.rule) for f in findings}
    results = with_fingerprints(asset, (finding_result(f, rules[f.rule.id].id) for f in findings))
    return Envelope(
        kind=kind,
        produced_at=produced_at or now(),
        tool=tool(),
        asset=asset,
        rules=tuple(rules.values()),
        results=results,
        summary=summarise(results, threshold),
        **payload,
    )
