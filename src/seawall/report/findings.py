"""Writers for rule findings (hardening, policy, vulnerability checks): table, JSON, SARIF
2.1.0 and JUnit XML, plus the ``--fail-on`` test every findings command shares."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from xml.etree import ElementTree

import msgspec
from rich.console import Group
from rich.table import Table
from rich.text import Text

from seawall.model import Finding, Rule, Severity, Status
from seawall.report.common import SARIF_LEVEL, SECURITY_SEVERITY, render_plain, sarif_log

_SARIF_KIND = {
    Status.PASS: "pass",
    Status.FAIL: "fail",
    Status.WARN: "review",
    Status.INFO: "informational",
    Status.MANUAL: "review",
    Status.NOT_APPLICABLE: "notApplicable",
    Status.ERROR: "review",
}
_STATUS_STYLE = {
    Status.PASS: "green",
    Status.FAIL: "bold red",
    Status.WARN: "yellow",
    Status.INFO: "cyan",
    Status.MANUAL: "magenta",
    Status.NOT_APPLICABLE: "dim",
    Status.ERROR: "red",
}


def fails_at(findings: Iterable[Finding], threshold: Severity | None) -> bool:
    """True if any failed finding has at least ``threshold`` severity (``--fail-on``)."""
    if threshold is None:
        return False
    return any(f.status is Status.FAIL and f.severity >= threshold for f in findings)


def status_counts(findings: Iterable[Finding]) -> Counter[Status]:
    return Counter(f.status for f in findings)


def findings_table(
    findings: Sequence[Finding], title: str, group: Callable[[Finding], str] | None = None
) -> Group:
    """A Rich renderable: one table per group (e.g. benchmark section) and a summary line."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(group(finding) if group else "", []).append(finding)
    parts: list[Text | Table] = [Text(title, "bold")]
    for name, members in groups.items():
        table = Table(
            title=name or None, title_justify="left", show_edge=False, header_style="bold"
        )
        for column in ("Status", "Rule", "Severity", "Resource", "Title", "Evidence"):
            table.add_column(column, overflow="fold")
        for finding in members:
            table.add_row(
                Text(finding.status.value, _STATUS_STYLE[finding.status]),
                finding.rule.id,
                finding.severity.name.lower(),
                finding.resource.label,
                finding.rule.title,
                finding.evidence,
            )
        parts.append(table)
    counts = status_counts(findings)
    summary = ", ".join(f"{n} {s.value}" for s, n in sorted(counts.items())) or "no findings"
    parts.append(Text(f"{len(findings)} results: {summary}"))
    return Group(*parts)


def findings_to_text(renderable: Group) -> str:
    """Plain text of a table, for ``-o FILE`` and pipes."""
    return render_plain(renderable)


class _FindingsDocument(msgspec.Struct, kw_only=True):
    schema: str
    summary: dict[str, int]
    findings: Sequence[Finding]
    extra: dict[str, object] = msgspec.field(default_factory=dict)


def findings_to_json(
    findings: Sequence[Finding], schema: str, extra: dict[str, object] | None = None
) -> str:
    """Seawall JSON: every finding with its rule, resource, evidence and fix."""
    document = _FindingsDocument(
        schema=schema,
        summary={s.value: n for s, n in status_counts(findings).items()},
        findings=findings,
        extra=extra or {},
    )
    return msgspec.json.format(msgspec.json.encode(document).decode(), indent=2)


def _sarif_rule(rule: Rule) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": rule.id,
        "name": rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description or rule.rationale or rule.title},
        "help": {"text": rule.remediation or rule.title},
        "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "tags": ["security", *(f"{k}:{v}" for k, v in sorted(rule.mappings.items()))],
        },
    }
    if rule.references:
        entry["helpUri"] = rule.references[0]
    return entry


def _sarif_location(finding: Finding) -> dict[str, object]:
    resource = finding.resource
    location: dict[str, object] = {
        "logicalLocations": [
            {
                "name": resource.name,
                "kind": resource.kind,
                "fullyQualifiedName": resource.label,
            }
        ]
    }
    path = resource.attributes.get("file")
    if path:
        region = {"startLine": int(resource.attributes.get("line", "1") or 1)}
        location["physicalLocation"] = {
            "artifactLocation": {"uri": path},
            "region": region,
        }
    return location


def findings_to_sarif(findings: Sequence[Finding], *, include_passed: bool = False) -> str:
    """SARIF 2.1.0: one run, the rules used, one result per finding that is not a pass."""
    reported = [f for f in findings if include_passed or f.status is not Status.PASS]
    rules = {f.rule.id: f.rule for f in findings}
    index = {rule_id: i for i, rule_id in enumerate(rules)}
    results = []
    for finding in reported:
        kind = _SARIF_KIND[finding.status]
        results.append(
            {
                "ruleId": finding.rule.id,
                "ruleIndex": index[finding.rule.id],
                "kind": kind,
                "level": SARIF_LEVEL[finding.severity] if kind == "fail" else "none",
                "message": {
                    "text": finding.message
                    or f"{finding.rule.title}: {finding.resource.label}"
                    + (f" ({finding.evidence})" if finding.evidence else "")
                },
                "locations": [_sarif_location(finding)],
                "properties": {
                    "status": finding.status.value,
                    "evidence": finding.evidence,
                    "remediation": finding.fix,
                },
            }
        )
    return sarif_log([_sarif_rule(rule) for rule in rules.values()], results)


def findings_to_junit(findings: Sequence[Finding], suite: str) -> str:
    """JUnit XML: a test case per finding; fail is a failure, error an error, manual and
    not-applicable are skipped."""
    root = ElementTree.Element("testsuites")
    counts = status_counts(findings)
    element = ElementTree.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(findings)),
        failures=str(counts[Status.FAIL]),
        errors=str(counts[Status.ERROR]),
        skipped=str(counts[Status.MANUAL] + counts[Status.NOT_APPLICABLE]),
    )
    for finding in findings:
        case = ElementTree.SubElement(
            element,
            "testcase",
            classname=finding.rule.id,
            name=f"{finding.rule.title} [{finding.resource.label}]",
        )
        detail = finding.evidence or finding.message
        if finding.status is Status.FAIL:
            failure = ElementTree.SubElement(case, "failure", message=detail or finding.rule.title)
            failure.text = finding.fix
        elif finding.status is Status.ERROR:
            ElementTree.SubElement(case, "error", message=detail or "could not be assessed")
        elif finding.status in (Status.MANUAL, Status.NOT_APPLICABLE):
            ElementTree.SubElement(case, "skipped", message=detail or finding.status.value)
        elif detail:
            ElementTree.SubElement(case, "system-out").text = detail
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True)
