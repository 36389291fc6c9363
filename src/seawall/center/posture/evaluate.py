"""Recompute where resources stand on the recommendations, for the assets an ingest (or an
exception, or a threshold change) touched; the score reads these states."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable

from sqlalchemy import case, delete, func, insert, select, true, update
from sqlalchemy.orm import Session

from seawall.center.posture.catalog import RECOMMENDATIONS, Recommendation
from seawall.center.store.models import Asset, AssetLink, FindingRow, RecommendationState
from seawall.model import Severity

HEALTHY, UNHEALTHY, NOT_APPLICABLE = "healthy", "unhealthy", "not_applicable"
SOURCE_TYPES = ("image", "host", "cluster", "node")  # the assets scans are about
_SEVERITIES = ("critical", "high", "medium", "low", "unknown")


def _chunks(ids: Collection[int], size: int = 500) -> Iterable[list[int]]:
    items = sorted(ids)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _load(session: Session, ids: list[int]) -> list[Asset]:
    """The assets of ``ids``: from the session's identity map when an ingest has just
    loaded them (a few ids: no query at all), else one SELECT."""
    if len(ids) <= 16:
        found = [session.get(Asset, i) for i in ids]
        return [a for a in found if a is not None]
    return list(session.scalars(select(Asset).where(Asset.id.in_(ids))))


def refresh_counts(session: Session, asset_ids: Collection[int]) -> None:
    """Open findings by severity on each asset: for an image, host or cluster, everything
    its scans reported; for a container or workload, its own."""
    for chunk in _chunks(asset_ids):
        assets = _load(session, chunk)
        sources = [a.id for a in assets if a.type in SOURCE_TYPES]
        others = [a.id for a in assets if a.type not in SOURCE_TYPES]
        counts: dict[int, dict[int, int]] = defaultdict(dict)
        for column, ids in ((FindingRow.source_id, sources), (FindingRow.asset_id, others)):
            if not ids:
                continue
            rows = session.execute(
                select(column, FindingRow.severity, func.count())
                .where(column.in_(ids), FindingRow.is_open == true())
                .group_by(column, FindingRow.severity)
            )
            for asset_id, severity, count in rows:
                counts[asset_id][severity] = count
        for asset in assets:
            by_severity = counts.get(asset.id, {})
            for level, name in zip(range(4, -1, -1), _SEVERITIES, strict=True):
                setattr(asset, name, by_severity.get(level, 0))


def refresh_health(session: Session, asset_ids: Collection[int], threshold: Severity) -> None:
    """``healthy``: nothing open at or above ``threshold`` (None until first assessed)."""
    names = [
        n for level, n in zip(range(4, -1, -1), _SEVERITIES, strict=True) if level >= threshold
    ]
    for chunk in _chunks(asset_ids):
        for asset in _load(session, chunk):
            assessed = asset.last_scanned is not None or asset.type not in SOURCE_TYPES
            open_above = sum(getattr(asset, name) for name in names)
            asset.healthy = (open_above == 0) if assessed else None


def _rule_states(
    session: Session, rec: Recommendation, asset_ids: list[int]
) -> dict[int, tuple[str, str]]:
    rows = session.execute(
        select(
            FindingRow.asset_id,
            func.max(case((FindingRow.is_open.is_(True), 1), else_=0)),
            func.max(case((FindingRow.status == "pass", 1), else_=0)),
            func.min(case((FindingRow.is_open.is_(True), FindingRow.evidence), else_=None)),
        )
        .where(FindingRow.asset_id.in_(asset_ids), FindingRow.rule_id.in_(rec.rules))
        .group_by(FindingRow.asset_id)
    )
    states: dict[int, tuple[str, str]] = {}
    for asset_id, failing, passing, evidence in rows:
        if failing:
            states[asset_id] = (UNHEALTHY, evidence or "")
        elif passing:
            states[asset_id] = (HEALTHY, "")
    return states


def _counted_states(session: Session, asset_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Images, hosts and nodes: their own ``healthy`` flag, with the open counts as
    detail."""
    states: dict[int, tuple[str, str]] = {}
    for asset in session.scalars(select(Asset).where(Asset.id.in_(asset_ids))):
        if asset.healthy is None:
            continue
        detail = ", ".join(
            f"{getattr(asset, name)} {name}" for name in _SEVERITIES if getattr(asset, name)
        )
        states[asset.id] = (HEALTHY if asset.healthy else UNHEALTHY, detail)
    return states


def _running_states(session: Session, asset_ids: list[int]) -> dict[int, tuple[str, str]]:
    """A runner is unhealthy when an image it runs is; healthy when every image it runs was
    assessed and is healthy; not applicable while an image it runs is unknown or unscanned."""
    rows = session.execute(
        select(AssetLink.source_id, Asset.healthy, Asset.name)
        .join(Asset, Asset.id == AssetLink.target_id, isouter=True)
        .where(AssetLink.source_id.in_(asset_ids))
    )
    images: dict[int, list[tuple[bool | None, str]]] = defaultdict(list)
    for source_id, healthy, name in rows:
        images[source_id].append((healthy, name or ""))
    states: dict[int, tuple[str, str]] = {}
    for source_id, found in images.items():
        bad = [name for healthy, name in found if healthy is False]
        if bad:
            states[source_id] = (UNHEALTHY, "runs " + ", ".join(sorted(bad)[:3]))
        elif all(healthy for healthy, _ in found):
            states[source_id] = (HEALTHY, "")
    return states


def evaluate(session: Session, asset_ids: Collection[int], now: dt.datetime) -> None:
    """Recompute every recommendation's state for ``asset_ids`` (of any type)."""
    by_type: dict[str, list[int]] = defaultdict(list)
    for chunk in _chunks(asset_ids):
        for asset_id, type_ in session.execute(
            select(Asset.id, Asset.type).where(Asset.id.in_(chunk), Asset.gone.is_(False))
        ):
            by_type[type_].append(asset_id)
    for rec in RECOMMENDATIONS:
        ids = [i for t in rec.resource_types for i in by_type.get(t, [])]
        if not ids:
            continue
        states: dict[int, tuple[str, str]] = {}
        for chunk in _chunks(ids):
            if rec.evaluation == "rules":
                states.update(_rule_states(session, rec, chunk))
            elif rec.evaluation == "running-images":
                states.update(_running_states(session, chunk))
            else:
                states.update(_counted_states(session, chunk))
        for chunk in _chunks(ids):
            session.execute(
                delete(RecommendationState).where(
                    RecommendationState.recommendation == rec.id,
                    RecommendationState.asset_id.in_(chunk),
                )
            )
        rows = [
            {
                "recommendation": rec.id,
                "asset_id": asset_id,
                "control": rec.control,
                "state": states.get(asset_id, (NOT_APPLICABLE, ""))[0],
                "detail": states.get(asset_id, (NOT_APPLICABLE, ""))[1][:500],
                "updated_at": now,
            }
            for asset_id in ids
        ]
        if rows:
            session.execute(insert(RecommendationState), rows)


def forget_gone(session: Session, asset_ids: Collection[int]) -> None:
    """Resources that are gone leave every recommendation."""
    for chunk in _chunks(asset_ids):
        session.execute(delete(RecommendationState).where(RecommendationState.asset_id.in_(chunk)))
        session.execute(
            update(Asset).where(Asset.id.in_(chunk)).values(healthy=None, running=False)
        )
