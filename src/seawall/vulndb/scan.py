"""Vulnerability scan of an inventory: match, filter, suppress, plan the fixes.

Works on an :class:`~seawall.model.Inventory`, whether just read from an image or loaded
from a stored SBOM, so a stored inventory is re-evaluated against a fresh database without
touching the image again. VEX documents and ignore files arrive already parsed (the
statements of :mod:`seawall.vulndb.suppress`): the engine reads no files of its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import msgspec

from seawall.model import Inventory, Severity, Vulnerability
from seawall.vulndb.match import AdvisorySource, Matcher
from seawall.vulndb.remediation import Remediation, remediate
from seawall.vulndb.suppress import Suppression, split


class ScanOptions(msgspec.Struct, frozen=True, kw_only=True):
    """What to report."""

    severities: frozenset[Severity] = frozenset(Severity)  # --severity
    ignore_unfixed: bool = False
    # Statements that rule findings out (from VEX documents and ignore files), and the
    # warnings their loading left (expired ignores), reported with the scan.
    suppressions: tuple[Suppression, ...] = ()
    suppression_warnings: tuple[str, ...] = ()


class Suppressed(msgspec.Struct, frozen=True, kw_only=True):
    """A finding left out, and why."""

    id: str
    package: str
    version: str
    status: str
    reason: str
    source: str


class ScanReport(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a scan: the findings kept, those ruled out, and the fixes."""

    inventory: Inventory
    vulnerabilities: tuple[Vulnerability, ...]
    remediations: tuple[Remediation, ...]
    suppressed: tuple[Suppressed, ...] = ()
    database: dict[str, str] = msgspec.field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def counts(self) -> Counter[Severity]:
        return Counter(v.severity for v in self.vulnerabilities)

    def healthy(self, threshold: Severity | None) -> bool:
        """No finding at or above ``threshold`` (any finding at all when None)."""
        if threshold is None:
            return not self.vulnerabilities
        return not any(v.severity >= threshold for v in self.vulnerabilities)


def scan_inventory(
    inventory: Inventory,
    store: AdvisorySource,
    options: ScanOptions,
    database: dict[str, str] | None = None,
    matcher: Matcher | None = None,
) -> ScanReport:
    """Match ``inventory`` against ``store`` and apply the options. ``matcher`` (of the
    same ``store``) is reused across inventories that share packages, e.g. the images of one
    re-match job: each package version is then looked up and folded once (a version the
    store cannot order is warned about by the first inventory that has it)."""
    matcher = matcher or Matcher(store)
    first_warning = len(matcher.warnings)
    found: Sequence[Vulnerability] = matcher.match(inventory)
    kept, suppressed = split(found, options.suppressions)
    kept = [v for v in kept if v.severity in options.severities]
    if options.ignore_unfixed:
        kept = [v for v in kept if v.fixed]
    return ScanReport(
        inventory=inventory,
        vulnerabilities=tuple(kept),
        remediations=tuple(remediate(inventory, kept)),
        suppressed=tuple(
            Suppressed(
                id=v.advisory.id,
                package=v.package.name,
                version=v.package.version,
                status=s.status,
                reason=s.reason,
                source=s.source,
            )
            for v, s in suppressed
        ),
        database=database or {},
        warnings=(
            *inventory.warnings,
            *matcher.warnings[first_warning:],
            *options.suppression_warnings,
        ),
    )
