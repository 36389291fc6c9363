"""Pieces every list shares: counts of an asset, severity names, filter parsing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.center.api.schemas import Counts
from seawall.center.pages import AnySelect, Page, Sort, paginate
from seawall.center.scoping import within
from seawall.center.security.scope import Scope
from seawall.center.store.models import Asset
from seawall.model import Severity

SEVERITY_NAMES = {int(s): s.name.lower() for s in Severity}
# how the lists of assets scans are about (hosts, nodes) sort
ASSESSED_SORTS = {
    "name": Sort("name", Asset.name),
    "critical": Sort("critical", Asset.critical, descending=True),
    "high": Sort("high", Asset.high, descending=True),
    "last_scanned": Sort("last_scanned", Asset.last_scanned, descending=True, is_time=True),
}


class NotFound(LookupError):
    """No such thing in the caller's scope."""


def counts(asset: Asset) -> Counts:
    return Counts(
        critical=asset.critical,
        high=asset.high,
        medium=asset.medium,
        low=asset.low,
        unknown=asset.unknown,
        total=asset.open_total,
    )


def assessed(asset: Asset) -> dict[str, Any]:
    """The fields of :class:`~seawall.center.api.schemas.AssessedItem` of ``asset``."""
    return {
        "id": asset.id,
        "key": asset.key,
        "name": asset.name,
        "healthy": asset.healthy,
        "counts": counts(asset),
        "last_scanned": asset.last_scanned,
    }


def severity_levels(names: str | None) -> list[int]:
    """``high,critical`` -> [3, 4]; ValueError for an unknown name."""
    if not names:
        return []
    return [int(Severity.parse(n)) for n in names.split(",") if n.strip()]


def scoped(statement: AnySelect, scope: Scope, column: Any = Asset.id) -> AnySelect:
    return statement if scope.everything else statement.where(within(scope, column))


def assets_page(
    session: Session,
    scope: Scope,
    type_: str,
    sort: Sort,
    cursor: str | None,
    limit: int,
    *,
    q: str = "",
    healthy: bool | None = None,
    parent: int | None = None,
) -> Page[Asset]:
    """One page of the assets of ``type_`` still there, in the scope: named with ``q`` in
    their name, of that health, under that parent (the hosts list, the nodes list)."""
    statement = scoped(select(Asset).where(Asset.type == type_, Asset.gone.is_(False)), scope)
    if q:
        statement = statement.where(Asset.name.icontains(q, autoescape=True))
    if healthy is not None:
        statement = statement.where(Asset.healthy.is_(healthy))
    if parent is not None:
        statement = statement.where(Asset.parent_id == parent)
    page = paginate(session, statement, Asset.id, sort, cursor, limit)
    return Page([row[0] for row in page.items], page.total, page.next)


def visible(session: Session, scope: Scope, asset_id: int, type_: str | None = None) -> Asset:
    """The asset, if it exists (of ``type_``) and the scope shows it; else NotFound."""
    asset = session.get(Asset, asset_id)
    if asset is None or (type_ is not None and asset.type != type_):
        raise NotFound(f"no {type_ or 'asset'} {asset_id}")
    if not scope.everything:
        from seawall.center.assets import tags_of

        if not scope.permits(tags_of(session, asset.id)):
            raise NotFound(f"no {type_ or 'asset'} {asset_id}")
    return asset


def where_label(session: Session, asset: Asset) -> str:
    """``host build-01``, ``cluster prod / shop``: where a container or workload lives."""
    parent = session.get(Asset, asset.parent_id) if asset.parent_id else None
    if parent is None:
        return ""
    if parent.type == "namespace":
        cluster = session.get(Asset, parent.parent_id) if parent.parent_id else None
        return f"{cluster.name if cluster else '?'} / {parent.name}"
    return parent.name
