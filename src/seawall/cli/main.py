"""The ``seawall`` command: assembles the command groups and maps errors to exit codes."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

import seawall.cli.commands
from seawall.cli.output import stderr
from seawall.errors import SeawallError

if TYPE_CHECKING:
    from seawall.image.digests import DigestPrefetcher

app = typer.Typer(
    name="seawall",
    help="Seawall: container security from image to run time.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # help texts contain brackets such as os/arch[/variant]
)
for _module in pkgutil.iter_modules(seawall.cli.commands.__path__):
    importlib.import_module(f"seawall.cli.commands.{_module.name}").register(app)


INTERNAL_ERROR = 4  # 0 ok, 1 findings, 2 input, 3 environment, 4 a bug in Seawall


def run(prefetcher: DigestPrefetcher | None = None) -> None:
    """Entry point: run the app; print SeawallErrors as one line with their exit code.

    ``prefetcher`` (already hashing the image named on the command line) becomes the
    context object, for the command that reads that image
    (:func:`seawall.cli.commands.sbom.prefetcher_of`).
    """
    try:
        app(obj=prefetcher)  # exits itself; usage errors exit 2 with Typer's message
    except SeawallError as exc:
        stderr.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug: one line and its own exit code, never 1 ("findings")
        what = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        stderr.print(
            f"[bold red]error:[/] internal error: {escape(what)} (a bug in Seawall: please "
            "report it with the command that caused it)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(INTERNAL_ERROR)
