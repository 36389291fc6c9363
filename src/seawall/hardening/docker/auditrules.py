"""Audit rules (``auditctl -l`` output or rules files) reduced to the paths they watch."""

from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class AuditRules:
    """Watched paths with the rule line that watches each; ``source`` says where they came
    from (``auditctl -l``, a rules file)."""

    watched: dict[str, str]
    source: str

    def rule_for(self, *paths: str) -> str:
        """The first rule line watching one of ``paths`` exactly, or ``""``."""
        for path in paths:
            line = self.watched.get(_normal(path))
            if line:
                return line
        return ""


def _normal(path: str) -> str:
    return path.rstrip("/") or "/"


def parse_audit_rules(text: str, source: str) -> AuditRules:
    """Paths named by ``-w PATH`` and ``-F path=``/``-F dir=`` in non-comment lines."""
    watched: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            words = line.split()
        for index, word in enumerate(words):
            value = words[index + 1] if index + 1 < len(words) else ""
            path = ""
            if word == "-w":
                path = value
            elif word.startswith("-w") and len(word) > 2:
                path = word[2:]
            elif word == "-F" and value.startswith(("path=", "dir=")):
                path = value.partition("=")[2]
            if path.startswith("/"):
                watched.setdefault(_normal(path), line)
    return AuditRules(watched=watched, source=source)
