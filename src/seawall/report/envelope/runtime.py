"""Run-time alerts as an envelope (kind ``alerts``); ``runtime watch`` streams the same
records (:func:`seawall.runtime.alerts.alert_record`) one per line."""

from __future__ import annotations

import socket
from collections.abc import Sequence

from seawall.contract.build import now, rule_info, tool
from seawall.contract.envelope import Asset, AssetType, Envelope, Kind
from seawall.model import Alert
from seawall.runtime.alerts import RULE_NAMESPACE, alert_record


def sensor_asset(cluster: str = "") -> Asset:
    """What alerts are about when nothing better is known: the cluster named by ``--cluster``,
    else this machine, both by name (the center matches them to the asset of that name)."""
    if cluster:
        return Asset(type=AssetType.CLUSTER, id=f"name:{cluster}", name=cluster)
    host = socket.gethostname()
    return Asset(type=AssetType.HOST, id=f"name:{host}", name=host)


def alerts_envelope(asset: Asset, alerts: Sequence[Alert], produced_at: str = "") -> Envelope:
    """The alerts of a replay or of a watch batch, about the cluster or host that saw them."""
    rules = {a.rule.id: rule_info(RULE_NAMESPACE, a.rule) for a in alerts}
    return Envelope(
        kind=Kind.ALERTS,
        produced_at=produced_at or now(),
        tool=tool(),
        asset=asset,
        rules=tuple(rules.values()),
        alerts=tuple(alert_record(a) for a in alerts),
    )
