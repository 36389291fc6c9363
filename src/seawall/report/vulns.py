"""Writers for a vulnerability scan: table, Seawall JSON, SARIF 2.1.0, CycloneDX 1.6 with
vulnerabilities, SPDX 2.3 with advisory references."""

from __future__ import annotations

import json
from collections.abc import Callable

from rich.console import Group
from rich.table import Table
from rich.text import Text

from seawall.model import Severity, Vulnerability
from seawall.report.common import (
    ADVISORY_URL,
    SARIF_LEVEL,
    SECURITY_SEVERITY,
    render_plain,
    sarif_log,
)
from seawall.vulndb.scan import ScanReport

_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.UNKNOWN: "dim",
}


def summary_line(report: ScanReport, threshold: Severity | None) -> Text:
    """``healthy`` or the counts per severity."""
    image = report.inventory.image.reference
    counts = report.counts()
    if report.healthy(threshold):
        bar = f" at or above {threshold.name.lower()}" if threshold else ""
        extra = f" ({len(report.vulnerabilities)} below it)" if report.vulnerabilities else ""
        return Text.assemble(
            (f"{image}: healthy", "bold green"), f": no vulnerabilities{bar}{extra}"
        )
    parts = [f"{counts[s]} {s.name.lower()}" for s in sorted(counts, reverse=True)]
    return Text.assemble(
        (image, "bold"), f": {len(report.vulnerabilities)} vulnerabilities (", ", ".join(parts), ")"
    )


def _score(vulnerability: Vulnerability) -> str:
    score = vulnerability.advisory.cvss_score
    return f"{score:.1f}" if score is not None else ""


def scan_table(report: ScanReport, threshold: Severity | None = None) -> Group:
    """Findings, then one fix per package."""
    parts: list[Text | Table] = [summary_line(report, threshold)]
    if report.vulnerabilities:
        table = Table(show_edge=False, header_style="bold")
        for column in (
            "Package",
            "Installed",
            "Vulnerability",
            "Severity",
            "Score",
            "Fixed in",
            "Title",
        ):
            table.add_column(column, overflow="fold")
        for v in report.vulnerabilities:
            flags = " KEV" if v.advisory.known_exploited else ""
            table.add_row(
                f"{v.package.ecosystem.value}:{v.package.name}",
                v.package.version,
                v.advisory.id,
                Text(v.severity.name.lower() + flags, _STYLE[v.severity]),
                _score(v),
                v.fixed_version or "not fixed",
                v.advisory.summary[:80],
            )
        parts.append(table)
        fixes = Table(
            title="Remediation", title_justify="left", show_edge=False, header_style="bold"
        )
        for column in ("Package", "Upgrade to", "Command", "Brought by (layer)"):
            fixes.add_column(column, overflow="fold")
        for plan in report.remediations:
            where = (
                f"{plan.layer_index}: {plan.created_by[:60]}"
                if plan.layer_index is not None
                else ""
            )
            if plan.from_base_image:
                where += " [base image: rebuild on a newer base]"
            fixes.add_row(
                plan.package.name,
                plan.fixed_version or "no fix yet",
                plan.command or plan.advice,
                where,
            )
        parts.append(fixes)
    if report.suppressed:
        parts.append(
            Text(f"{len(report.suppressed)} findings suppressed by VEX or ignore file", "dim")
        )
    for warning in report.warnings[:5]:
        parts.append(Text(f"warning: {warning}", "yellow"))
    return Group(*parts)


def scan_to_table(report: ScanReport, threshold: Severity | None = None) -> str:
    return render_plain(scan_table(report, threshold))


def scan_to_sarif(report: ScanReport) -> str:
    """One SARIF result per finding, located at the file that declared the package."""
    rules: dict[str, dict[str, object]] = {}
    results = []
    for v in report.vulnerabilities:
        advisory = v.advisory
        if advisory.id not in rules:
            rules[advisory.id] = {
                "id": advisory.id,
                "name": advisory.id,
                "shortDescription": {"text": advisory.summary or advisory.id},
                "fullDescription": {
                    "text": (advisory.details or advisory.summary or advisory.id)[:4000]
                },
                "helpUri": ADVISORY_URL.format(advisory.id),
                "help": {"text": f"Upgrade to {v.fixed_version}" if v.fixed else "No fix yet"},
                "properties": {
                    "security-severity": f"{advisory.cvss_score:.1f}"
                    if advisory.cvss_score is not None
                    else SECURITY_SEVERITY[v.severity],
                    "tags": ["security", "vulnerability", *advisory.aliases],
                },
            }
        package = v.package
        results.append(
            {
                "ruleId": advisory.id,
                "level": SARIF_LEVEL[v.severity],
                "message": {
                    "text": (
                        f"{package.name} {package.version} is vulnerable to {advisory.id}"
                        f" ({v.severity.name.lower()}). "
                        + (f"Fixed in {v.fixed_version}." if v.fixed else "No fixed version yet.")
                    )
                },
                "locations": [
                    {
                        "physicalLocation": {"artifactLocation": {"uri": package.path}},
                        "logicalLocations": [
                            {"name": package.purl or package.name, "kind": "package"}
                        ],
                    }
                ],
                "properties": {
                    "purl": package.purl,
                    "layer": package.layer_digest,
                    "image": report.inventory.image.reference,
                },
            }
        )
    return sarif_log(list(rules.values()), results)


def scan_to_cyclonedx(report: ScanReport) -> str:
    """The image's SBOM with a vulnerabilities section (CycloneDX 1.6)."""
    from seawall.report.cyclonedx import scan_to_cyclonedx as write

    return write(report)


def scan_to_spdx(report: ScanReport) -> str:
    """SPDX 2.3: the SBOM, with an advisory reference on each vulnerable package."""
    from seawall.report.spdx import inventory_to_spdx

    document = json.loads(inventory_to_spdx(report.inventory))
    by_key: dict[tuple[str, ...], list[Vulnerability]] = {}
    for v in report.vulnerabilities:
        by_key.setdefault((*v.package.key, v.package.path), []).append(v)
    # packages[0] is the image; the rest follow inventory order
    for package, entry in zip(report.inventory.packages, document["packages"][1:], strict=True):
        found = by_key.get((*package.key, package.path), [])
        refs = entry.setdefault("externalRefs", [])
        for v in found:
            refs.append(
                {
                    "referenceCategory": "SECURITY",
                    "referenceType": "advisory",
                    "referenceLocator": ADVISORY_URL.format(v.advisory.id),
                    "comment": f"{v.severity.name.lower()}; fixed in "
                    f"{v.fixed_version or 'no release yet'}",
                }
            )
    return json.dumps(document, indent=2)


SCAN_WRITERS: dict[str, Callable[[ScanReport], str]] = {
    "sarif": scan_to_sarif,
    "cyclonedx": scan_to_cyclonedx,
    "spdx": scan_to_spdx,
}
