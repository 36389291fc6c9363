"""Options and output shared by the commands that report vulnerabilities
(``seawall image scan`` and ``seawall sbom match``)."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from seawall.cli.options import parse_threshold
from seawall.cli.output import emit, stderr
from seawall.contract import encode_pretty
from seawall.errors import InputError
from seawall.model import Inventory, Severity

if TYPE_CHECKING:
    from seawall.vulndb.suppress import Suppression


class ScanFormat(enum.StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"
    cyclonedx = "cyclonedx"
    spdx = "spdx"


DbOpt = Annotated[
    Path | None,
    typer.Option(help="Advisory database (default: $SEAWALL_DB or ~/.cache/seawall/db)."),
]
SeverityOpt = Annotated[
    str | None,
    typer.Option(help="Only these severities, comma-separated (e.g. high,critical)."),
]
IgnoreUnfixedOpt = Annotated[
    bool, typer.Option(help="Leave out vulnerabilities that have no fixed version yet.")
]
VexOpt = Annotated[
    list[Path] | None,
    typer.Option(
        help="OpenVEX or CycloneDX VEX document; not_affected/fixed statements "
        "remove findings (repeatable)."
    ),
]
IgnoreFileOpt = Annotated[
    Path | None,
    typer.Option(help="YAML ignore file: entries with id, reason, optional packages/expires."),
]


def parse_severities(text: str | None) -> frozenset[Severity]:
    if not text:
        return frozenset(Severity)
    try:
        return frozenset(Severity.parse(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise InputError(str(exc)) from None


def load_suppressions(
    vex: list[Path] | None, ignore_file: Path | None
) -> tuple[tuple[Suppression, ...], tuple[str, ...]]:
    """The statements of the ``--vex`` documents and the ``--ignore-file``, and the warnings
    for skipped VEX statements and expired ignore entries."""
    from seawall.vulndb.suppress import load_ignore_file, load_vex

    rules: list[Suppression] = []
    warnings: list[str] = []
    for path in vex or ():
        statements, skipped = load_vex(path)
        rules.extend(statements)
        warnings.extend(skipped)
    if ignore_file is not None:
        active, expired = load_ignore_file(ignore_file)
        rules.extend(active)
        warnings.extend(expired)
    return tuple(rules), tuple(warnings)


def report_scan(
    inventory: Inventory,
    db: Path | None,
    format: ScanFormat,
    output: Path | None,
    severity: str | None,
    ignore_unfixed: bool,
    fail_on: str | None,
    vex: list[Path] | None,
    ignore_file: Path | None,
    upload: str = "",
    token: str = "",
) -> None:
    """Match, write the report, upload it when asked, and exit 1 when ``--fail-on`` is
    crossed."""
    from seawall.cli.upload import send
    from seawall.report.envelope.image import scan_envelope
    from seawall.report.vulns import SCAN_WRITERS, scan_table, scan_to_table
    from seawall.vulndb.scan import ScanOptions, scan_inventory
    from seawall.vulndb.store import AdvisoryStore, default_db_path

    threshold = parse_threshold(fail_on)
    suppressions, suppression_warnings = load_suppressions(vex, ignore_file)
    options = ScanOptions(
        severities=parse_severities(severity),
        ignore_unfixed=ignore_unfixed,
        suppressions=suppressions,
        suppression_warnings=suppression_warnings,
    )
    store = AdvisoryStore.open(db or default_db_path())
    try:
        report = scan_inventory(inventory, store, options, database=store.describe())
    finally:
        store.close()
    envelope = scan_envelope(report, threshold) if format is ScanFormat.json or upload else None
    if format is ScanFormat.table:
        emit(scan_to_table(report, threshold), output, scan_table(report, threshold))
    else:
        if envelope is not None and format is ScanFormat.json:
            emit(encode_pretty(envelope), output)
        else:
            emit(SCAN_WRITERS[format.value](report), output)
        if output is not None or not sys.stdout.isatty():
            from seawall.report.vulns import summary_line

            stderr.print(summary_line(report, threshold))
    if envelope is not None:
        send(envelope, upload, token)
    if threshold is not None and not report.healthy(threshold):
        raise typer.Exit(1)
