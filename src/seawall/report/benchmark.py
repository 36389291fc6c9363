"""A benchmark audit as a terminal view: what was assessed, one table per benchmark section
(with its counts), and the score. Shared by the CIS Docker and CIS Kubernetes audits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from seawall.hardening.benchmark import section_of
from seawall.model import Finding

if TYPE_CHECKING:
    from rich.console import Group


def benchmark_view(
    findings: Sequence[Finding], title: str, about: Sequence[str], score: dict[str, Any]
) -> Group:
    """``about`` (lines describing the assessed host or node), the findings grouped by
    section, and the score line."""
    from rich.console import Group
    from rich.text import Text

    from seawall.report.findings import findings_table

    per_section: dict[str, Counter[str]] = {}
    for finding in findings:
        per_section.setdefault(section_of(finding.rule), Counter())[finding.status.value] += 1

    def group(finding: Finding) -> str:
        section = section_of(finding.rule)
        counts = ", ".join(f"{n} {s}" for s, n in sorted(per_section[section].items()))
        return f"{section} ({counts})"

    return Group(
        Text("\n".join(about)),
        findings_table(list(findings), title, group),
        Text(
            f"Score: {score['percent']}% of scored checks pass "
            f"({score['passed']} passed, {score['failed']} failed or to review)",
            "bold",
        ),
    )
