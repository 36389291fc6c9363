"""Findings: every list the API and dashboard show of them (all, one image's, one host's,
one workload's), filtered by state, kind, severity, rule and package."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.orm import Session

from seawall.center.api.schemas import FindingItem
from seawall.center.pages import AnySelect, Page, Sort, paginate
from seawall.center.queries.common import SEVERITY_NAMES, scoped
from seawall.center.security.scope import Scope
from seawall.center.store.models import Asset, FindingRow, RuleRow

STATES = ("open", "suppressed", "resolved", "passing", "failing", "all")
KINDS = ("vulnerability", "configuration", "policy")
SORTS = {
    "severity": Sort("severity", FindingRow.severity, descending=True),
    "first_seen": Sort("first_seen", FindingRow.first_seen, descending=True, is_time=True),
    "last_seen": Sort("last_seen", FindingRow.last_seen, descending=True, is_time=True),
    "rule": Sort("rule", FindingRow.rule_id),
    "package": Sort("package", FindingRow.package),
}


def state_of(row: FindingRow) -> str:
    if row.failing:
        return "suppressed" if row.exception_id is not None else "open"
    return "resolved" if row.resolved_at is not None else "passing"


def _state_filter(statement: AnySelect, state: str) -> AnySelect:
    # ``= true`` rather than ``IS true``: PostgreSQL uses an index only for the former
    if state == "open":
        return statement.where(FindingRow.is_open == true())
    if state == "failing":
        return statement.where(FindingRow.failing == true())
    if state == "suppressed":
        # few: found on the exception_id index, through a range SQLite uses without
        # statistics (ids are positive: the same as IS NOT NULL, which it scanned the table for)
        return statement.where(FindingRow.failing == true(), FindingRow.exception_id > 0)
    # is_open is failing and not suppressed: it is false in the states below, which said so
    # lets them be read from the (is_open, severity, id) index in order
    closed = FindingRow.is_open == false()
    if state == "resolved":
        return statement.where(
            closed, FindingRow.failing == false(), FindingRow.resolved_at.is_not(None)
        )
    if state == "passing":
        return statement.where(
            closed, FindingRow.failing == false(), FindingRow.resolved_at.is_(None)
        )
    return statement


def _named(rule: str) -> AnySelect:
    """The ids ``rule`` names: itself, or the rule of that id in any namespace. Looked up in
    the rules table (thousands of rows; every finding's rule is there, ingest stores rules
    first), so findings are then found on their rule index rather than by a LIKE over all."""
    return select(RuleRow.id).where(
        or_(RuleRow.id == rule, RuleRow.id.endswith("/" + rule, autoescape=True))
    )


def rule_ids(session: Session, rule: str) -> list[str]:
    """:func:`_named`, as values: a list of ids lets the planner (SQLite's, without
    statistics) pick the rule index, where a subquery left it scanning every open finding."""
    return list(session.scalars(_named(rule)))


def findings_statement(
    scope: Scope,
    *,
    state: str = "open",
    kinds: Iterable[str] = (),
    severities: Iterable[int] = (),
    rule: str = "",
    rule_ids: list[str] | None = None,
    package: str = "",
    asset: int | None = None,
    source: int | None = None,
    q: str = "",
    q_found: Search | None = None,
) -> AnySelect:
    statement = select(FindingRow)
    statement = scoped(statement, scope, FindingRow.asset_id)
    statement = _state_filter(statement, state)
    if kinds := list(kinds):
        statement = statement.where(FindingRow.kind.in_(kinds))
    if severities := sorted(set(severities)):
        if severities == list(range(severities[0], severities[-1] + 1)):
            # adjacent levels (high,critical) as a range: read in order from an index, where
            # an IN list made both backends sort every matching finding
            statement = statement.where(FindingRow.severity.between(severities[0], severities[-1]))
        else:
            statement = statement.where(FindingRow.severity.in_(severities))
    if rule_ids is not None:
        statement = statement.where(FindingRow.rule_id.in_(rule_ids))
    elif rule:
        statement = statement.where(FindingRow.rule_id.in_(_named(rule)))
    if package:
        statement = statement.where(FindingRow.package == package)
    if asset is not None:
        statement = statement.where(FindingRow.asset_id == asset)
    if source is not None:
        statement = statement.where(FindingRow.source_id == source)
    if q:
        statement = statement.where(or_(*_search_terms(q, q_found)))
    return statement


class Search(NamedTuple):
    """What a search names, looked up first in small places (the rules table, the distinct
    names on the package and resource indexes), so the findings are then found by
    equality on their indexes: a range or an OR over the million findings makes both
    planners (SQLite's without statistics especially) scan every open finding."""

    rules: list[str]
    packages: list[str]
    resources: list[str]


def resolve_search(session: Session, q: str) -> Search:
    beyond = q + "\U0010ffff"  # the end of the range of strings that start with q

    def starting(column: Any) -> list[str]:
        names = select(column).where(column >= q, column < beyond).distinct()
        return list(session.scalars(names.limit(MAX_SEARCHED_NAMES)))

    return Search(
        rules=list(session.scalars(_searched(q))),
        packages=starting(FindingRow.package),
        resources=starting(FindingRow.resource_name),
    )


def _search_terms(q: str, found: Search | None) -> list[ColumnElement[bool]]:
    """One condition per index: the rules the search names, the packages and resources
    whose names start with it."""
    if found is None:  # a statement built without a session: the same, as subqueries
        beyond = q + "\U0010ffff"
        return [
            FindingRow.rule_id.in_(_searched(q)),
            and_(FindingRow.package >= q, FindingRow.package < beyond),
            and_(FindingRow.resource_name >= q, FindingRow.resource_name < beyond),
        ]
    terms = (
        (FindingRow.rule_id, found.rules),
        (FindingRow.package, found.packages),
        (FindingRow.resource_name, found.resources),
    )
    return [column.in_(names) for column, names in terms if names] or [false()]


def search_total(session: Session, scope: Scope, **filters: Any) -> int:
    """How many findings a search matches: the union of one lookup per term, each on its
    own index."""
    q, found = filters.pop("q"), filters.pop("q_found", None)
    base = findings_statement(scope, **filters).with_only_columns(FindingRow.id)
    branches = [base.where(term) for term in _search_terms(q, found)]
    matched = union(*branches).subquery()
    return int(session.scalar(select(func.count()).select_from(matched)) or 0)


MAX_SEARCHED_RULES = 1000
MAX_SEARCHED_NAMES = 1000


def _searched(q: str) -> AnySelect:
    """The rules a search names: its text in the rule's id or title, or one of its aliases
    exactly (a CVE or GHSA id); looked up in the rules table, as the rule filter is."""
    return (
        select(RuleRow.id)
        .where(
            or_(
                RuleRow.id.icontains(q, autoescape=True),
                RuleRow.title.icontains(q, autoescape=True),
                cast(RuleRow.data, String).contains(json.dumps(q), autoescape=True),
            )
        )
        .limit(MAX_SEARCHED_RULES)
    )


# the types of source that report each kind of findings (a source's scans are of one kind)
SOURCES_OF_KIND = {
    "vulnerability": ("image",),
    "configuration": ("host", "node"),
    "policy": ("cluster",),
}
_COUNTERS = {4: Asset.critical, 3: Asset.high, 2: Asset.medium, 1: Asset.low, 0: Asset.unknown}


def open_total(
    session: Session,
    scope: Scope,
    *,
    state: str = "open",
    kinds: Iterable[str] = (),
    severities: Iterable[int] = (),
    source: int | None = None,
    **others: Any,
) -> int | None:
    """How many open findings there are, from the counts kept on their sources (an image,
    host, cluster or node counts the open findings its scans reported, by severity; ingest and
    exceptions keep them current), when only the state, kinds, severities and source are
    filtered and the scope is everything: a sum over thousands of assets instead of a COUNT
    over a million findings. None when those counts cannot say (the caller counts rows)."""
    if state != "open" or not scope.everything or any(v not in (None, "") for v in others.values()):
        return None
    types = [t for k in kinds or SOURCES_OF_KIND for t in SOURCES_OF_KIND[k]]
    levels = list(severities) or list(_COUNTERS)
    statement = select(func.sum(sum((_COUNTERS[level] for level in set(levels)), literal(0))))
    statement = statement.where(Asset.type.in_(types))
    if source is not None:
        statement = statement.where(Asset.id == source)
    return int(session.scalar(statement) or 0)


def items(session: Session, rows: list[FindingRow]) -> list[FindingItem]:
    rule_ids = {r.rule_id for r in rows}
    titles = (
        {
            rule_id: title
            for rule_id, title in session.execute(
                select(RuleRow.id, RuleRow.title).where(RuleRow.id.in_(rule_ids))
            )
        }
        if rule_ids
        else {}
    )
    asset_ids = {r.asset_id for r in rows} | {r.source_id for r in rows}
    owners = (
        {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(asset_ids)))}
        if asset_ids
        else {}
    )
    out = []
    for row in rows:
        owner = owners.get(row.asset_id)
        source = owners.get(row.source_id)
        out.append(
            FindingItem(
                id=row.id,
                fingerprint=row.fingerprint,
                kind=row.kind,
                rule=row.rule_id,
                title=titles.get(row.rule_id, row.rule_id),
                severity=SEVERITY_NAMES[row.severity],  # type: ignore[arg-type]
                status=row.status,
                state=state_of(row),  # type: ignore[arg-type]
                asset={
                    "id": row.asset_id,
                    "type": owner.type if owner else "",
                    "name": owner.name if owner else "",
                    "key": owner.key if owner else "",
                    "source": source.name if source else "",
                    "source_type": source.type if source else "",
                },
                resource={
                    "kind": row.resource_kind,
                    "name": row.resource_name,
                    "namespace": row.resource_namespace,
                    "id": row.resource_id,
                },
                package=row.package,
                version=row.version,
                fixed_version=row.fixed_version,
                evidence=row.evidence,
                message=row.message,
                remediation=row.remediation,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
                resolved_at=row.resolved_at,
                reopened_at=row.reopened_at,
                times_reopened=row.times_reopened,
                exception_id=row.exception_id,
                details=row.details or {},
            )
        )
    return out


def list_findings(
    session: Session,
    scope: Scope,
    *,
    sort: str = "severity",
    cursor: str | None = None,
    limit: int = 50,
    count: bool = True,
    **filters: Any,
) -> Page[FindingItem]:
    """One page of findings; ``count=False`` skips the total (-1), which costs a scan of
    every matching finding on a large store when no counter gives it."""
    if filters.get("rule"):
        filters["rule_ids"] = rule_ids(session, filters["rule"])
    if filters.get("q"):
        filters["q_found"] = resolve_search(session, filters["q"])
    statement = findings_statement(scope, **filters)
    if not count:
        total: int | None = -1
    elif filters.get("q"):
        total = search_total(session, scope, **filters)
    else:
        total = open_total(session, scope, **filters)
    page = paginate(session, statement, FindingRow.id, SORTS[sort], cursor, limit, total=total)
    return Page(items(session, [row[0] for row in page.items]), page.total, page.next)


def get_finding(session: Session, scope: Scope, finding_id: int) -> FindingItem | None:
    row = session.scalar(findings_statement(scope, state="all").where(FindingRow.id == finding_id))
    return items(session, [row])[0] if row else None


@dataclass(frozen=True)
class RuleResult:
    """Where one rule stands on one host, cluster or workload: how many of its resources
    fail and pass it (findings its source still reports), with the rule's text."""

    rule: str
    title: str
    severity: str
    section: str
    failing: int
    passing: int
    other: int  # warn, info, manual, not applicable, error
    evidence: str  # of a failing resource (or of any, when none fails)
    remediation: str
    description: str
    others: tuple[str, ...] = ()  # the statuses counted in ``other``

    @property
    def status(self) -> str:
        if self.failing:
            return "fail"
        if self.passing:
            return "pass"
        return "other"

    @property
    def outcome(self) -> str:
        """:attr:`status`, or the one status of the rule's other results (a check for
        review, not applicable, in error) when they share one."""
        if self.status == "other" and len(self.others) == 1:
            return self.others[0]
        return self.status


def _natural(rule_id: str) -> tuple[object, ...]:
    """``cis-docker-1.6/5.11`` after ``.../5.2``: numbers compared as numbers."""
    tail = rule_id.rpartition("/")[2]
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in tail.split("."))


def rule_results(
    session: Session,
    scope: Scope,
    *,
    kind: str,
    source: int | None = None,
    asset: int | None = None,
) -> list[RuleResult]:
    """Every rule a source (or one asset) was assessed against, by section then rule, from
    one grouped query over its current findings and one over their rules."""
    statement = scoped(
        select(
            FindingRow.rule_id,
            FindingRow.status,
            func.count(),
            func.min(FindingRow.evidence),
        ).where(FindingRow.kind == kind, FindingRow.status != "resolved"),
        scope,
        FindingRow.asset_id,
    )
    if source is not None:
        statement = statement.where(FindingRow.source_id == source)
    if asset is not None:
        statement = statement.where(FindingRow.asset_id == asset)
    counts: dict[str, dict[str, tuple[int, str]]] = defaultdict(dict)
    for rule_id, status, count, evidence in session.execute(
        statement.group_by(FindingRow.rule_id, FindingRow.status)
    ):
        counts[rule_id][status] = (int(count), evidence or "")
    if not counts:
        return []
    rules = {row.id: row for row in session.scalars(select(RuleRow).where(RuleRow.id.in_(counts)))}
    out = []
    for rule_id, by_status in counts.items():
        rule = rules.get(rule_id)
        data = rule.data if rule else {}
        mappings = data.get("mappings") or {}
        failing = by_status.get("fail", (0, ""))
        passing = by_status.get("pass", (0, ""))
        others = [v for k, v in by_status.items() if k not in ("fail", "pass")]
        evidence = failing[1] or next((e for _, e in others if e), "") or passing[1]
        out.append(
            RuleResult(
                rule=rule_id,
                title=rule.title if rule else rule_id,
                severity=SEVERITY_NAMES[rule.severity] if rule else "unknown",
                section=str(mappings.get("section", "")),
                failing=failing[0],
                passing=passing[0],
                other=sum(n for n, _ in others),
                evidence=evidence,
                remediation=str(data.get("remediation", "")),
                description=str(data.get("rationale", "") or data.get("description", "")),
                others=tuple(sorted(k for k in by_status if k not in ("fail", "pass"))),
            )
        )
    return sorted(out, key=lambda r: (_natural(r.section.partition(" ")[0]), _natural(r.rule)))
