"""The one place a scope becomes SQL: the assets a scoped principal may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select, true

from seawall.center.security.scope import Scope
from seawall.center.store.models import AssetTag


def visible_assets(scope: Scope) -> Select[int]:
    """The ids of the assets tagged with one of the scope's selectors."""
    return select(AssetTag.asset_id).where(AssetTag.tag.in_(scope.as_list()))


def within(scope: Scope, column: Any) -> ColumnElement[bool]:
    """A condition on an asset-id ``column``: true for everything in ``scope``."""
    if scope.everything:
        return true()
    condition: ColumnElement[bool] = column.in_(visible_assets(scope))
    return condition
