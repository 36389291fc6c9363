"""The ``seawall`` command: assembles the command groups and maps errors to exit codes."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from seawall import __version__
from seawall.cli.output import stderr
from seawall.cli.sbom import sbom
from seawall.errors import SeawallError

app = typer.Typer(
    name="seawall",
    help="Seawall: container security from image to run time.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # help texts contain brackets such as os/arch[/variant]
)
app.command(no_args_is_help=True)(sbom)


@app.command()
def version() -> None:
    """Print Seawall's version."""
    print(f"seawall {__version__}")


def run() -> None:
    """Entry point: run the app; print SeawallErrors as one line with their exit code."""
    try:
        app()  # exits itself; usage errors exit 2 with Typer's message
    except SeawallError as exc:
        stderr.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
