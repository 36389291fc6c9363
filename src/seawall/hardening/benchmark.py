"""What every benchmark audit shares (CIS Docker, CIS Kubernetes): a check's Result, choosing
checks by id or section, and the score of scored checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from seawall.errors import InputError
from seawall.model import Finding, Resource, Rule, Status

ASSESSED = frozenset({Status.PASS, Status.FAIL, Status.WARN, Status.INFO})


@dataclass(frozen=True)
class Result:
    """One outcome of a check: status, the deciding evidence, the resource (host if None)."""

    status: Status
    evidence: str
    resource: Resource | None = None


def verdict(failed: bool, bad: str, good: str, *, failure: Status = Status.FAIL) -> Result:
    """``failure`` with evidence ``bad`` if ``failed``, else pass with ``good``."""
    return Result(failure, bad) if failed else Result(Status.PASS, good)


@dataclass(frozen=True)
class BenchmarkAudit:
    """One audit's findings, what was assessed (its inventory) and its score."""

    findings: list[Finding]
    inventory: dict[str, Any]
    score: dict[str, Any]

    @property
    def assessed(self) -> bool:
        """False when no check could be assessed at all (every result error or manual)."""
        return any(f.status in ASSESSED for f in self.findings)

    @property
    def counts(self) -> Counter[Status]:
        return Counter(f.status for f in self.findings)


def _matches(check_id: str, pattern: str) -> bool:
    return check_id == pattern or check_id.startswith(pattern + ".")


def select_checks(
    rules: Sequence[str], checks: Sequence[str] = (), skip: Sequence[str] = ()
) -> list[str]:
    """The rule ids chosen by ``checks`` (ids or sections, all if empty) minus ``skip``."""
    for pattern in (*checks, *skip):
        if not any(_matches(r, pattern) for r in rules):
            raise InputError(
                f"no CIS check or section {pattern!r}", hint="use ids like 5.4 or sections like 2"
            )
    return [
        r
        for r in rules
        if (not checks or any(_matches(r, p) for p in checks))
        and not any(_matches(r, p) for p in skip)
    ]


def section_of(rule: Rule) -> str:
    return rule.mappings.get("section", "")


def score(findings: Sequence[Finding]) -> dict[str, Any]:
    """Scored checks that passed everywhere versus those with a fail or warn somewhere."""
    outcome: dict[str, bool] = {}
    for finding in findings:
        if not finding.rule.scored:
            continue
        if finding.status in (Status.FAIL, Status.WARN):
            outcome[finding.rule.id] = False
        elif finding.status is Status.PASS:
            outcome.setdefault(finding.rule.id, True)
    passed = sum(outcome.values())
    total = len(outcome)
    return {
        "passed": passed,
        "failed": total - passed,
        "percent": round(100 * passed / total, 1) if total else 0.0,
    }
