"""Rule catalogs: every rule's metadata as data, one YAML file per engine in this package.

A catalog file is a YAML list of rules (``id``, ``title``, ``severity``, ``description``,
``rationale``, ``remediation``, ``impact``, ``references``, ``mappings``, ``level``,
``scored``). Engines look their rules up by id; reports take titles and fixes from here, so
a rule reads the same wherever it is evaluated.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import msgspec

from seawall.errors import InputError
from seawall.model import Rule, Severity
from seawall.safety.yaml import read_yaml


def _rule(raw: Any, origin: str) -> Rule:
    if not isinstance(raw, dict) or "id" not in raw:
        raise InputError(f"{origin}: a rule must be a mapping with an id")
    fields = dict(raw)
    if isinstance(fields.get("severity"), str):
        fields["severity"] = Severity.parse(fields["severity"])
    try:
        return msgspec.convert(fields, Rule)
    except msgspec.ValidationError as exc:
        raise InputError(f"{origin}: rule {raw.get('id')!r}: {exc}") from None


def parse_catalog(text: str, origin: str) -> dict[str, Rule]:
    """Rules by id from the YAML ``text``; duplicates and malformed rules are errors."""
    documents = read_yaml(text, origin, max_documents=1)
    document = (documents[0] if documents else None) or []
    if not isinstance(document, list):
        raise InputError(f"{origin}: a catalog is a list of rules")
    rules: dict[str, Rule] = {}
    for raw in document:
        rule = _rule(raw, origin)
        if rule.id in rules:
            raise InputError(f"{origin}: rule {rule.id!r} is defined twice")
        rules[rule.id] = rule
    return rules


@cache
def catalog(name: str) -> dict[str, Rule]:
    """The built-in catalog ``name`` (``seawall/rules/<name>.yaml``), by rule id."""
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return parse_catalog(text, f"built-in catalog {name}")
