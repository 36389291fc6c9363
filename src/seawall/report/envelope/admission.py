"""Admission webhook decisions as an envelope (kind ``admission``); the webhook's decision
log streams the same :class:`~seawall.contract.envelope.AdmissionDecision` one per line."""

from __future__ import annotations

from collections.abc import Sequence

from seawall.contract.build import now, tool
from seawall.contract.envelope import AdmissionDecision, Asset, Envelope, Kind


def admission_envelope(
    asset: Asset, decisions: Sequence[AdmissionDecision], produced_at: str = ""
) -> Envelope:
    """A batch of decisions of the cluster's webhook (``asset`` is the cluster)."""
    return Envelope(
        kind=Kind.ADMISSION,
        produced_at=produced_at or now(),
        tool=tool(),
        asset=asset,
        decisions=tuple(decisions),
    )
