"""Findings: every list the API and dashboard show of them (all, one image's, one host's,
one workload's), filtered by state, kind, severity, rule and package."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
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
    if state == "open":
        return statement.where(FindingRow.is_open.is_(True))
    if state == "failing":
        return statement.where(FindingRow.failing.is_(True))
    if state == "suppressed":
        return statement.where(FindingRow.failing.is_(True), FindingRow.exception_id.is_not(None))
    if state == "resolved":
        return statement.where(FindingRow.failing.is_(False), FindingRow.resolved_at.is_not(None))
    if state == "passing":
        return statement.where(FindingRow.failing.is_(False), FindingRow.resolved_at.is_(None))
    return statement


def findings_statement(
    scope: Scope,
    *,
    state: str = "open",
    kinds: Iterable[str] = (),
    severities: Iterable[int] = (),
    rule: str = "",
    package: str = "",
    asset: int | None = None,
    source: int | None = None,
    q: str = "",
) -> AnySelect:
    statement = select(FindingRow)
    statement = scoped(statement, scope, FindingRow.asset_id)
    statement = _state_filter(statement, state)
    if kinds := list(kinds):
        statement = statement.where(FindingRow.kind.in_(kinds))
    if severities := list(severities):
        statement = statement.where(FindingRow.severity.in_(severities))
    if rule:
        statement = statement.where(
            or_(
                FindingRow.rule_id == rule, FindingRow.rule_id.endswith("/" + rule, autoescape=True)
            )
        )
    if package:
        statement = statement.where(FindingRow.package == package)
    if asset is not None:
        statement = statement.where(FindingRow.asset_id == asset)
    if source is not None:
        statement = statement.where(FindingRow.source_id == source)
    if q:
        statement = statement.where(
            or_(
                FindingRow.rule_id.icontains(q, autoescape=True),
                FindingRow.package.icontains(q, autoescape=True),
                FindingRow.resource_name.icontains(q, autoescape=True),
            )
        )
    return statement


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
    every matching finding on a large store."""
    statement = findings_statement(scope, **filters)
    page = paginate(session, statement, FindingRow.id, SORTS[sort], cursor, limit, count=count)
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

    @property
    def status(self) -> str:
        if self.failing:
            return "fail"
        if self.passing:
            return "pass"
        return "other"


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
            )
        )
    return sorted(out, key=lambda r: (_natural(r.section.partition(" ")[0]), _natural(r.rule)))
