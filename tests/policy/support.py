"""Helpers shared by the policy tests: fixture paths, the engine the fixtures expect, a
JSON Patch applier (to prove that a finding's patch fixes the object)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from seawall.policy.engine import PolicyEngine
from seawall.policy.settings import load_settings
from seawall.policy.vulnerabilities import load_scan_results

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "policy"
BUILTIN = FIXTURES / "builtin"
GATEKEEPER = FIXTURES / "gatekeeper"
EXPECT = "seawall.dev/expect"


def fixture_engine() -> PolicyEngine:
    """The engine with the settings and scan results the built-in fixtures are written for."""
    return PolicyEngine(
        load_settings(FIXTURES / "settings.yaml"),
        load_scan_results([FIXTURES / "scan-results.json"]),
    )


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def apply_patch(document: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 add, replace and remove (what Seawall's remediations use)."""
    result = copy.deepcopy(document)
    for operation in operations:
        *parents, last = [_unescape(t) for t in operation["path"].split("/")[1:]]
        target: Any = result
        for token in parents:
            target = target[int(token)] if isinstance(target, list) else target[token]
        key: Any = last
        if isinstance(target, list):  # "-" is the end of an array (add appends)
            key = len(target) if last == "-" else int(last)
        if operation["op"] == "remove":
            del target[key]
        elif isinstance(target, list) and operation["op"] == "add":
            target.insert(key, operation["value"])
        else:
            target[key] = operation["value"]
    return result
