"""Options every command spells and reads the same way: output file, severity threshold,
check selection, comma-separated lists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seawall.errors import InputError
from seawall.model import Severity

OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
]
FailOnOpt = Annotated[
    str | None,
    typer.Option(
        metavar="SEVERITY",
        help="Exit 1 when a failed finding is at or above this severity (low..critical).",
    ),
]
ChecksOpt = Annotated[
    list[str] | None,
    typer.Option("--checks", metavar="IDS", help="Only these check ids or sections (e.g. 2,5.4)."),
]
SkipOpt = Annotated[
    list[str] | None,
    typer.Option("--skip", metavar="IDS", help="Skip these check ids or sections."),
]


def split_values(values: list[str] | None) -> tuple[str, ...]:
    """Repeated options and comma-separated lists, flattened."""
    return tuple(
        part.strip() for value in values or [] for part in value.split(",") if part.strip()
    )


def parse_threshold(text: str | None, option: str = "--fail-on") -> Severity | None:
    """The severity named by ``option`` (None when not given); a clear error otherwise."""
    if not text:
        return None
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise InputError(f"{option}: {exc}") from None
