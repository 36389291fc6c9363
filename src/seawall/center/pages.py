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

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, tuple_
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


def _nullable(column: Any) -> bool:
    """Whether ``column`` (a mapped attribute or a column) may hold NULL."""
    return bool(getattr(getattr(column, "expression", column), "nullable", True))


def _order(sort: Sort, id_column: Any) -> list[Any]:
    """ORDER BY of ``sort``: ties broken by id in the same direction, so that one index on
    (filter columns..., sort column, id) read forwards or backwards serves the page; NULLS
    LAST only where the column may be NULL (a NULLS clause an index cannot give would make
    PostgreSQL sort every matching row)."""
    column, tie = sort.column, id_column
    key = column.desc() if sort.descending else column.asc()
    if _nullable(column):
        key = key.nulls_last()
    return [key, tie.desc() if sort.descending else tie.asc()]


def _after(sort: Sort, id_column: Any, value: Any, row_id: int) -> ColumnElement[bool]:
    """Rows strictly after (value, id) in the sort order (NULLs sort last)."""
    column = sort.column
    if not _nullable(column):
        # a row-value comparison: an index range on both backends, however deep the page
        there = tuple_(literal(value, column.type), literal(row_id, id_column.type))
        here = tuple_(column, id_column)
        return here < there if sort.descending else here > there
    id_beyond = id_column < row_id if sort.descending else id_column > row_id
    if value is None:
        return and_(column.is_(None), id_beyond)
    beyond = column < value if sort.descending else column > value
    tie = and_(column == value, id_beyond)
    return or_(beyond, tie, column.is_(None))


def count_rows(session: Session, statement: AnySelect) -> int:
    """How many rows ``statement`` selects: COUNT(*) over its FROM and WHERE (not over a
    subquery of every selected column, which keeps SQLite from counting on an index)."""
    if statement._group_by_clauses or statement._distinct:
        subquery = statement.order_by(None).subquery()
        return int(session.scalar(select(func.count()).select_from(subquery)) or 0)
    counted = statement.with_only_columns(func.count(), maintain_column_froms=True)
    return int(session.scalar(counted.order_by(None)) or 0)


def paginate(
    session: Session,
    statement: AnySelect,
    id_column: Any,
    sort: Sort,
    cursor: str | None,
    limit: int,
    *,
    count: bool = True,
    total: int | None = None,
) -> Page[Any]:
    """One page of ``statement`` (already filtered) in ``sort`` order; ``total`` when the
    caller knows it more cheaply than a COUNT (-1 without ``count``)."""
    limit = max(1, min(limit, MAX_LIMIT))
    if total is None:
        total = count_rows(session, statement) if count else -1
    ordered = statement.order_by(*_order(sort, id_column))
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
