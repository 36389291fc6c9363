"""Keyset pagination: every list is ``{"items": [...], "total": N, "next": CURSOR}``.

The cursor is the sort value and id of the last item returned (opaque to clients: base64 of
JSON), so the next page is an index range scan whatever the depth, and rows inserted
meanwhile do not shift the pages.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

T = TypeVar("T")
AnySelect = Select[*tuple[Any, ...]]  # a SELECT of any columns
MAX_LIMIT = 500


class BadCursor(ValueError):
    """The cursor was not made by this server (or by this sort)."""


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    next: str | None


@dataclass(frozen=True)
class Sort:
    """A sort key: a column, its direction, and how to read its value back from a cursor."""

    name: str
    column: Any
    descending: bool = False
    is_time: bool = False


def encode_cursor(sort: Sort, value: Any, row_id: int) -> str:
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    raw = json.dumps([sort.name, value, row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(sort: Sort, cursor: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, value, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise BadCursor("cursor is not valid") from exc
    if name != sort.name or not isinstance(row_id, int):
        raise BadCursor("cursor belongs to another sort order")
    if sort.is_time and value is not None:
        try:
            value = dt.datetime.fromisoformat(value)
        except (TypeError, ValueError) as exc:
            raise BadCursor("cursor is not valid") from exc
    return value, row_id


def _after(sort: Sort, id_column: Any, value: Any, row_id: int) -> ColumnElement[bool]:
    """Rows strictly after (value, id) in the sort order (NULLs sort last)."""
    column = sort.column
    if value is None:
        return and_(column.is_(None), id_column > row_id)
    beyond = column < value if sort.descending else column > value
    tie = and_(column == value, id_column > row_id)
    return or_(beyond, tie, column.is_(None))


def paginate(
    session: Session,
    statement: AnySelect,
    id_column: Any,
    sort: Sort,
    cursor: str | None,
    limit: int,
    *,
    count: bool = True,
) -> Page[Any]:
    """One page of ``statement`` (already filtered) in ``sort`` order."""
    limit = max(1, min(limit, MAX_LIMIT))
    total = (
        int(
            session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
            or 0
        )
        if count
        else -1
    )
    ordered = statement.order_by(
        sort.column.desc().nulls_last() if sort.descending else sort.column.asc().nulls_last(),
        id_column.asc(),
    )
    if cursor:
        value, row_id = decode_cursor(sort, cursor)
        ordered = ordered.where(_after(sort, id_column, value, row_id))
    rows: Sequence[Any] = session.execute(ordered.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(sort, _value(last, sort), _value(last, None, id_column))
    return Page(items=list(rows), total=total, next=next_cursor)


def _value(row: Any, sort: Sort | None, id_column: Any = None) -> Any:
    """The sort column's (or the id's) value in a result row."""
    column = sort.column if sort is not None else id_column
    key = str(getattr(column, "key", None) or getattr(column, "name", ""))
    mapping = row._mapping
    if column in mapping:
        return mapping[column]
    if key in mapping:
        return mapping[key]
    # an ORM entity: the one of the column's class (a row may hold several entities, as
    # ``select(RecommendationState, Asset)`` sorted by ``Asset.name`` does)
    owner = getattr(column, "class_", None)
    entity = next((e for e in row if owner is not None and isinstance(e, owner)), row[0])
    return getattr(entity, key)
