"""``seawall version``."""

from __future__ import annotations

import typer

from seawall import __version__


def register(app: typer.Typer) -> None:
    """Add ``seawall version`` to the application."""
    app.command()(version)


def version() -> None:
    """Print Seawall's version."""
    print(f"seawall {__version__}")
