"""``seawall db``: the advisory database (update from OSV, import offline, status, export)."""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from seawall.cli.options import OutputOpt
from seawall.cli.output import emit, stderr
from seawall.errors import InputError

if TYPE_CHECKING:
    from seawall.vulndb.importer import ImportReport
    from seawall.vulndb.store import StoreStatus


class DbFormat(enum.StrEnum):
    table = "table"
    json = "json"


DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Advisory database file (default: $SEAWALL_DB or ~/.cache/seawall/db/advisories.db).",
    ),
]
FormatOpt = Annotated[DbFormat, typer.Option("--format", "-f", help="Output format.")]

db_app = typer.Typer(
    name="db",
    help="The advisory database: update from OSV, import offline, status, export.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``seawall db`` to the application."""
    app.add_typer(db_app, name="db")


def _db_path(db: Path | None) -> Path:
    from seawall.vulndb.store import default_db_path

    return db if db is not None else default_db_path()


def _report_text(report: ImportReport, verb: str) -> str:
    if report.total == 0 and report.added == 0 and report.unchanged:
        return f"up to date (not modified: {', '.join(report.unchanged)})"
    lines = [
        f"{verb} {report.added} advisories ({report.withdrawn} withdrawn, "
        f"{report.malformed} malformed skipped); {report.kept} kept; "
        f"the database now has {report.total}"
    ]
    if report.kev or report.epss:
        lines.append(f"enrichment: {report.kev} KEV entries, {report.epss} EPSS scores")
    if report.unchanged:
        lines.append(f"not modified: {', '.join(report.unchanged)}")
    return "\n".join(lines)


def _emit_report(report: ImportReport, verb: str, fmt: DbFormat, output: Path | None) -> None:
    import msgspec

    for example in report.examples:
        stderr.print(f"warning: malformed record skipped: {example}", highlight=False)
    if report.malformed > len(report.examples):
        stderr.print(f"warning: ... {report.malformed} malformed in all", highlight=False)
    for warning in report.warnings:
        stderr.print(f"warning: {warning}", highlight=False)
    if fmt is DbFormat.json:
        emit(msgspec.json.format(msgspec.json.encode(report)).decode(), output)
    else:
        emit(_report_text(report, verb), output)


@db_app.command("update")
def update(
    ecosystem: Annotated[
        list[str] | None,
        typer.Option("--ecosystem", "-e", help="Only this OSV ecosystem (repeatable)."),
    ] = None,
    source: Annotated[
        str,
        typer.Option(
            help="Base URL of the OSV archives, or a local directory laid out the same way "
            "(default: $SEAWALL_OSV_URL or OSV's public bucket).",
        ),
    ] = "",
    db: DbOpt = None,
    format: FormatOpt = DbFormat.table,
    output: OutputOpt = None,
) -> None:
    """Download the OSV archives that changed since the last update and rebuild the database."""
    from seawall.vulndb.keys import OSV_ECOSYSTEMS, canonical_ecosystem
    from seawall.vulndb.update import DEFAULT_BASE
    from seawall.vulndb.update import update as run_update

    try:
        chosen = [canonical_ecosystem(e) for e in ecosystem] if ecosystem else OSV_ECOSYSTEMS
    except ValueError as exc:
        raise InputError(str(exc)) from None
    base = source or os.environ.get("SEAWALL_OSV_URL") or DEFAULT_BASE
    report = run_update(_db_path(db), base=base, ecosystems=chosen)
    _emit_report(report, "updated:", format, output)


@db_app.command("import", no_args_is_help=True)
def import_(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="OSV zips, directories of OSV JSON/YAML records, bundles from `db export`, "
            "KEV (known_exploited_vulnerabilities.json) or EPSS (epss*.csv[.gz]) files.",
            show_default=False,
        ),
    ],
    kev: Annotated[Path | None, typer.Option(help="A CISA KEV catalog (JSON).")] = None,
    epss: Annotated[Path | None, typer.Option(help="An EPSS scores file (CSV).")] = None,
    db: DbOpt = None,
    format: FormatOpt = DbFormat.table,
    output: OutputOpt = None,
) -> None:
    """Add advisories from files (air-gapped sites); same ids replace older ones."""
    from seawall.vulndb.importer import import_paths

    report = import_paths(_db_path(db), paths, kev=kev, epss=epss)
    _emit_report(report, "imported", format, output)


def _age(seconds: int) -> str:
    if seconds < 0:
        return "unknown"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _status_text(status: StoreStatus) -> str:
    lines = [
        f"database:   {status.path} ({status.size / 1e6:.1f} MB)",
        f"built:      {status.built_at} ({_age(status.age_seconds)} ago)",
        f"advisories: {status.advisories}, package keys: {status.packages}, "
        f"KEV: {status.kev}, EPSS: {status.epss}",
        "",
        f"{'ecosystem':<20} {'advisories':>10} {'packages':>10}",
    ]
    for name, count in status.ecosystems.items():
        lines.append(f"{name or '(none)':<20} {count.advisories:>10} {count.packages:>10}")
    lines += ["", "sources:"]
    for src in status.sources:
        lines.append(f"  {src.name}  {src.records} records, {src.fetched_at}  {src.location}")
    return "\n".join(lines)


@db_app.command("status")
def status(
    verify: Annotated[
        bool, typer.Option(help="Also check every row's checksum (reads the whole file).")
    ] = False,
    db: DbOpt = None,
    format: FormatOpt = DbFormat.table,
    output: OutputOpt = None,
) -> None:
    """Age, counts per ecosystem and sources of the advisory database."""
    import msgspec

    from seawall.vulndb.store import AdvisoryStore

    with AdvisoryStore.open(_db_path(db)) as store:
        if verify:
            store.verify()
        result = store.status()
    if format is DbFormat.json:
        emit(msgspec.json.format(msgspec.json.encode(result)).decode(), output)
    else:
        emit(_status_text(result), output)


@db_app.command("export", no_args_is_help=True)
def export(
    file: Annotated[Path, typer.Argument(help="The bundle to write.", show_default=False)],
    db: DbOpt = None,
) -> None:
    """Write the whole database as one file for `seawall db import` on an offline site."""
    from seawall.vulndb.writer import export_bundle

    export_bundle(_db_path(db), file)
    stderr.print(f"wrote {file} ({file.stat().st_size / 1e6:.1f} MB)", highlight=False)
