"""Follow findings by fingerprint from one scan of a source to the next.

A result seen for the first time is a new finding (first seen now). One seen before is
updated (last seen now); if it had been resolved and fails again it is reopened. A failing
finding the new scan no longer reports, or reports as passing, is resolved. Passing results
are kept too (so healthy resources and a host's passed checks can be shown), but only failing
ones are *open*, and only when no exception covers them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from seawall.center.store.database import update_rows
from seawall.center.store.models import ExceptionRow, FindingRow
from seawall.contract.envelope import Result, severity_of
from seawall.model import Status

FAILING = frozenset({Status.FAIL})
RESOLVED = "resolved"  # the status of a finding its source no longer reports


@dataclass(frozen=True)
class Change:
    """What a sync did, for the receipt and the jobs that follow an ingest."""

    new: int = 0
    resolved: int = 0
    reopened: int = 0
    assets: frozenset[int] = frozenset()
    rewritten: int = 0  # findings inserted or changed (not those only seen again)


def _row(
    result: Result, asset_id: int, exception_id: int | None, now: dt.datetime
) -> dict[str, Any]:
    failing = result.status in FAILING
    package = result.package
    details: dict[str, Any] = {}
    if package is not None:
        details = {
            "ecosystem": package.ecosystem,
            "purl": package.purl,
            "path": package.path,
            "layer_digest": package.layer_digest,
            "layer_created_by": package.layer_created_by,
            "source_name": package.source_name,
        }
    if result.severity_source:
        details["severity_source"] = result.severity_source
    if result.action:
        details["action"] = result.action
    return {
        "asset_id": asset_id,
        "rule_id": result.rule,
        "severity": int(severity_of(result.severity)),
        "status": result.status.value,
        "failing": failing,
        "is_open": failing and exception_id is None,
        "exception_id": exception_id if failing else None,
        "last_seen": now,
        "resource_kind": result.resource.kind[:100],
        "resource_name": result.resource.name[:300],
        "resource_namespace": result.resource.namespace[:300],
        "resource_id": result.resource.id[:300],
        "package": package.name[:300] if package else "",
        "version": package.version[:200] if package else "",
        "fixed_version": result.fixed_version[:200],
        "evidence": result.evidence,
        "message": result.message,
        "remediation": result.remediation,
        "details": details,
    }


# The columns of a finding a scan can change (all of :func:`_row` but last_seen): a finding
# reported again exactly as stored only gets its last_seen moved, in one statement for all
# of them, instead of an UPDATE of every column (which rewrites every index of the row).
_COMPARED = tuple(
    getattr(FindingRow, name)
    for name in (
        "asset_id", "rule_id", "severity", "status", "failing", "is_open", "exception_id",
        "resource_kind", "resource_name", "resource_namespace", "resource_id", "package",
        "version", "fixed_version", "evidence", "message", "remediation", "details",
    )
)  # fmt: skip


def _unchanged(row: dict[str, Any], before: Any) -> bool:
    """Is the stored finding ``before`` what ``row`` would write (last_seen aside)?"""
    return all(row[column.key] == getattr(before, column.key) for column in _COMPARED)


@dataclass(frozen=True)
class Source:
    """One source's latest results for :func:`sync_many`: each result with the id of the
    asset it is on; with ``packages``, only the findings of packages of those names are
    followed (``results`` then report those packages alone: a partial re-match)."""

    id: int
    results: Iterable[tuple[Result, int]]
    exception_for: Callable[[Result], int | None]
    packages: frozenset[str] | None = None


def sync(
    session: Session,
    source_id: int,
    kind: str,
    results: Iterable[tuple[Result, int]],
    exception_for: Callable[[Result], int | None],
    now: dt.datetime,
    packages: frozenset[str] | None = None,
) -> Change:
    """Bring the findings of ``source_id`` and ``kind`` in line with ``results`` (see
    :class:`Source`)."""
    return sync_many(session, kind, [Source(source_id, results, exception_for, packages)], now)[0]


def sync_many(
    session: Session, kind: str, sources: Sequence[Source], now: dt.datetime
) -> list[Change]:
    """:func:`sync` for several sources at once, in a few statements whatever their number
    (one read of their findings, one insert, one update per set of changed columns): a
    re-match stores its images this way."""
    existing = _stored(session, kind, sources)
    writes = _Writes()
    changes = [
        _follow(source, existing.get(source.id, {}), kind, now, writes) for source in sources
    ]
    writes.apply(session, now)
    return changes


def _stored(session: Session, kind: str, sources: Sequence[Source]) -> dict[int, dict[str, Any]]:
    """The stored findings of ``sources`` that their results are compared with, by source
    and fingerprint (of a partial source, those of its packages only)."""
    columns = select(
        FindingRow.id,
        FindingRow.source_id,
        FindingRow.fingerprint,
        FindingRow.resolved_at,
        FindingRow.times_reopened,
        *_COMPARED,
    ).where(_no_index(FindingRow.kind) == kind)
    whole = [source.id for source in sources if source.packages is None]
    parts = [source for source in sources if source.packages is not None]
    names = sorted({name for source in parts for name in source.packages or ()})
    # two queries, not one with OR (SQLite's planner does not split an OR)
    queries = []
    if whole:
        queries.append(columns.where(FindingRow.source_id.in_(whole)))
    if parts:
        queries.append(
            columns.where(
                FindingRow.source_id.in_([source.id for source in parts]),
                _no_index(FindingRow.package).in_(names),
            )
        )
    wanted = {source.id: source.packages for source in sources}
    existing: dict[int, dict[str, Any]] = {source.id: {} for source in sources}
    for row in (row for query in queries for row in session.execute(query)):
        packages = wanted[row.source_id]
        if packages is None or row.package in packages:
            existing[row.source_id][row.fingerprint] = row
    return existing


def _no_index(column: Any) -> Any:
    """``column || ''``: the same value, but no index of ``column`` can serve the condition.
    A source's findings are read from the source index; SQLite's planner (no statistics)
    otherwise took the kind or package index for several sources at once, and read the
    findings of those packages in every image: seconds, inside the write transaction."""
    return column.concat("")


@dataclass
class _Writes:
    """The statements :func:`sync_many` gathers from its sources, to run together."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    seen_again: list[int] = field(default_factory=list)  # unchanged but for last_seen

    def apply(self, session: Session, now: dt.datetime) -> None:
        if self.inserts:
            _insert(session, self.inserts)
        if self.updates:
            update_rows(session, cast(Table, FindingRow.__table__), "id", self.updates)
        for start in range(0, len(self.seen_again), 500):
            session.execute(
                update(FindingRow)
                .where(FindingRow.id.in_(self.seen_again[start : start + 500]))
                .values(last_seen=now)
            )


def _follow(
    source: Source, existing: dict[str, Any], kind: str, now: dt.datetime, writes: _Writes
) -> Change:
    """Compare one source's results with its stored findings; what to write goes to
    ``writes``."""
    touched: set[int] = set()
    new = reopened = resolved = rewritten = 0
    for result, asset_id in source.results:
        touched.add(asset_id)
        row = _row(result, asset_id, source.exception_for(result), now)
        before = existing.pop(result.fingerprint, None)
        if before is None:
            new += row["failing"]
            rewritten += 1
            writes.inserts.append(
                {
                    **row,
                    "fingerprint": result.fingerprint,
                    "source_id": source.id,
                    "kind": kind,
                    "first_seen": now,
                    "resolved_at": None,
                    "reopened_at": None,
                    "times_reopened": 0,
                }
            )
            continue
        if _unchanged(row, before):
            writes.seen_again.append(before.id)
            continue
        row["id"] = before.id
        if row["failing"] and not before.failing and before.resolved_at is not None:
            reopened += 1
            row.update(resolved_at=None, reopened_at=now, times_reopened=before.times_reopened + 1)
        elif not row["failing"] and before.failing:
            resolved += 1
            row["resolved_at"] = now
        rewritten += 1
        writes.updates.append(row)
    for gone in existing.values():
        touched.add(gone.asset_id)
        if gone.failing:
            resolved += 1
            rewritten += 1
            writes.updates.append(
                {
                    "id": gone.id,
                    "failing": False,
                    "is_open": False,
                    "status": RESOLVED,
                    "resolved_at": now,
                    "exception_id": None,
                }
            )
    return Change(
        new=new,
        resolved=resolved,
        reopened=reopened,
        assets=frozenset(touched),
        rewritten=rewritten,
    )


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    """INSERT the new findings: COPY on PostgreSQL (pg8000 turns an executemany into a
    statement per row, or parses a multi-row INSERT of thousands of parameters in Python: 30
    to 45 ms for a scan's 100 findings, against 6 ms for a COPY)."""
    bind = session.connection()
    dbapi: Any = bind.connection.dbapi_connection
    if bind.dialect.name != "postgresql" or not type(dbapi).__module__.startswith("pg8000"):
        session.execute(insert(FindingRow), rows)
        return
    names = list(rows[0])
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_text(row[name]) for name in names) + "\n")
    buffer.seek(0)
    columns = ", ".join(f'"{FindingRow.__table__.columns[name].name}"' for name in names)
    cursor = dbapi.cursor()
    cursor.execute(f"COPY findings ({columns}) FROM STDIN", stream=buffer)


def _copy_text(value: Any) -> str:
    """A value in COPY's text format (NULL is \\N; backslash, tab and newlines escaped)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        text = value.isoformat()
    elif isinstance(value, dict | list):
        text = json.dumps(value)
    else:
        text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class ExceptionMatcher:
    """Which active exception, if any, covers a result on one asset.

    An exception names a rule by its id (``osv/CVE-2024-1234``, ``cis-docker-1.6/5.4``), its
    id without the namespace, or one of the rule's aliases (a CVE or GHSA id); its scope is
    everything, one repository (``registry/repository``) or one image (any of its digests).
    """

    def __init__(
        self,
        active: Iterable[ExceptionRow],
        repositories: Iterable[str],
        digests: Iterable[str],
        aliases: Mapping[str, tuple[str, ...]],
        now: dt.datetime,
    ) -> None:
        """``active``: the active exceptions (:func:`active_exceptions`, read once for
        all the assets of a batch)."""
        where = {("all", ""), *(("repository", r) for r in repositories)}
        where |= {("image", d) for d in digests}
        self._aliases = aliases
        self._by_rule: dict[str, int] = {}
        for exception in active:
            expired = exception.expires_at is not None and exception.expires_at <= now
            if not expired and (exception.scope_type, exception.scope_value) in where:
                self._by_rule.setdefault(exception.rule, exception.id)

    def __call__(self, result: Result) -> int | None:
        if not self._by_rule or result.status not in FAILING:
            return None
        names = (result.rule, result.rule.partition("/")[2], *self._aliases.get(result.rule, ()))
        return next((self._by_rule[n] for n in names if n in self._by_rule), None)


def active_exceptions(session: Session) -> list[ExceptionRow]:
    """The active exceptions, oldest first (the first that covers a result is named)."""
    return list(
        session.scalars(
            select(ExceptionRow).where(ExceptionRow.active.is_(True)).order_by(ExceptionRow.id)
        )
    )
