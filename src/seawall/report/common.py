"""What every writer shares: SARIF's severity mapping and plain-text rendering of tables."""

from __future__ import annotations

from rich.console import Console, RenderableType

from seawall.model import Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.UNKNOWN: "warning",
}
# GitHub code scanning ranks results by this property (0.0-10.0) when no CVSS score is known.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
    Severity.UNKNOWN: "0.0",
}


def render_plain(renderable: RenderableType, width: int = 200) -> str:
    """A Rich renderable as plain text (no colours), for ``-o FILE`` and pipes."""
    console = Console(width=width, force_terminal=False, color_system=None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()
