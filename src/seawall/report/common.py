"""What every writer shares: the SARIF log and severity mapping, plain-text tables."""

from __future__ import annotations

from typing import Any

import msgspec
from rich.console import Console, RenderableType

from seawall import __version__
from seawall.model import Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
ADVISORY_URL = "https://osv.dev/vulnerability/{}"  # an advisory's page, by id or alias
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


def sarif_log(rules: list[dict[str, Any]], results: list[dict[str, Any]]) -> str:
    """A SARIF 2.1.0 log with one run of Seawall: the rules used and their results."""
    driver = {
        "name": "seawall",
        "version": __version__,
        "informationUri": "https://seawall.dev",
        "rules": rules,
    }
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
    return json_text(document)


def render_plain(renderable: RenderableType, width: int = 200) -> str:
    """A Rich renderable as plain text (no colours), for ``-o FILE`` and pipes."""
    console = Console(width=width, force_terminal=False, color_system=None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def json_text(document: Any) -> str:
    """A document (dicts, lists, strings, numbers) as indented JSON text, as every
    ``-f json``-like writer prints it (msgspec: several times faster than ``json.dumps``)."""
    return msgspec.json.format(msgspec.json.encode(document), indent=2).decode()
