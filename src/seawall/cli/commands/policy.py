"""``seawall policy verify``: run Gatekeeper-library test suites (gator's format)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer


class EngineChoice(enum.StrEnum):
    all = "all"
    rego = "rego"
    cel = "cel"


def register(app: typer.Typer) -> None:
    """Add ``seawall policy`` to the application."""
    group = typer.Typer(help="Gatekeeper policies.", no_args_is_help=True)
    group.command(name="verify", no_args_is_help=True)(verify)
    app.add_typer(group, name="policy")


def verify(
    suites: Annotated[list[Path], typer.Argument(help="suite.yaml files (gator Suite format).")],
    engine: Annotated[
        EngineChoice,
        typer.Option(help="Template engine to check: all (every engine present), rego, cel."),
    ] = EngineChoice.all,
) -> None:
    """Run each case of each suite; print it, then "N passed, M failed"; exit 1 on failure."""
    from seawall.policy.gatekeeper.suite import run_suite
    from seawall.policy.gatekeeper.template import CEL, REGO

    chosen = {EngineChoice.all: None, EngineChoice.rego: REGO, EngineChoice.cel: CEL}[engine]
    passed = failed = 0
    for suite in suites:
        for result in run_suite(suite, chosen):
            status = "skip" if result.detail == "skipped" else ("ok" if result.passed else "FAIL")
            detail = f": {result.detail}" if result.detail and not result.passed else ""
            typer.echo(f"{status:4} {result.label}{detail}")
            passed += result.passed
            failed += not result.passed
    typer.echo(f"{passed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)
