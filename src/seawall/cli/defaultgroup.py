"""A command group with a default command: ``seawall sbom IMAGE`` and ``seawall sbom match``.

Arguments that do not start with a known sub-command name are handed to the default one, so
the short form keeps working while the group grows sub-commands.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup


class DefaultGroup(TyperGroup):
    """A TyperGroup that runs ``default_command`` when no sub-command is named."""

    default_command = ""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


def default_group(name: str) -> type[DefaultGroup]:
    """A DefaultGroup class whose default sub-command is ``name``."""
    return type(f"DefaultGroup_{name}", (DefaultGroup,), {"default_command": name})
