"""How every report-writing command emits its result: ``--format`` and ``-o FILE``."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console, RenderableType

from seawall.errors import EnvironmentFailure

stderr = Console(stderr=True)


def emit(text: str, output: Path | None, renderable: RenderableType | None = None) -> None:
    """Write ``text`` to ``output`` (or stdout). On a terminal, print ``renderable`` instead
    when given, so tables get colours and fit the screen."""
    if output is not None:
        try:
            output.write_text(text if text.endswith("\n") else text + "\n")
        except OSError as exc:
            raise EnvironmentFailure(f"cannot write {output}: {exc.strerror}") from None
        return
    if renderable is not None and sys.stdout.isatty():
        Console().print(renderable)
        return
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
