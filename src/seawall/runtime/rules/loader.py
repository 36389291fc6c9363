"""Read rule files (the built-in pack, then the user's) and compile them into a RuleSet.

A rule file is a YAML list whose items are ``list``, ``macro`` or ``rule`` entries (see
``docs/runtime.md``). Later files override earlier ones: a list with ``append: true`` grows,
a macro or list without it is replaced, a rule with a condition replaces the rule of that
id, and a rule entry without a condition modifies the existing rule (``enabled``,
``severity``, ``output``, ... replace; ``exceptions`` add values), so users tune the
built-in pack without copying it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from seawall.errors import InputError
from seawall.model import Rule, Severity
from seawall.runtime.events import Event, SourceSpec, load_sources
from seawall.runtime.intel import IntelDB
from seawall.runtime.rules.compiler import NEVER, Compiler, constraints, expand, fields_of
from seawall.runtime.rules.index import CompiledRule, OutputPart, RuleIndex
from seawall.runtime.rules.parser import (
    And,
    Compare,
    ConditionError,
    Literal,
    Node,
    Not,
    Or,
    parse_condition,
)
from seawall.safety.files import read_regular
from seawall.safety.limits import max_bytes
from seawall.safety.yaml import read_yaml

BUILTIN_FILES = ("common.yaml", "k8s_audit.yaml", "docker.yaml", "auditd.yaml")
RULE_KEYS = frozenset(
    {
        "rule", "title", "source", "condition", "output", "severity", "tactic", "technique",
        "description", "rationale", "remediation", "references", "exceptions", "enabled",
        "defender", "tags",
    }
)  # fmt: skip
_OUTPUT_FIELD = re.compile(r"%([A-Za-z0-9_.]+)")
_SEVERITY_ALIASES = {"informational": "low", "info": "low", "warning": "medium"}


@dataclass
class RulePack:
    """Lists, macros and raw rules merged from any number of files, not yet compiled."""

    lists: dict[str, list[str]] = field(default_factory=dict)
    macros: dict[str, str] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_text(self, text: str | bytes, origin: str) -> None:
        documents = read_yaml(text, origin, max_documents=1)
        document = documents[0] if documents else None
        if document is None:
            return
        if not isinstance(document, list):
            raise InputError(f"{origin}: a rule file is a list of list, macro and rule entries")
        for position, item in enumerate(document, 1):
            where = f"{origin}: entry {position}"
            if not isinstance(item, dict):
                raise InputError(f"{where}: expected a mapping")
            if "list" in item:
                self._add_list(item, where)
            elif "macro" in item:
                self._add_macro(item, where)
            elif "rule" in item:
                self._add_rule(item, where)
            else:
                raise InputError(f"{where}: needs a 'list', 'macro' or 'rule' key")

    def add_file(self, path: Path) -> None:
        """The rules of the regular file ``path`` (within ``SEAWALL_MAX_RULES_BYTES``)."""
        self.add_text(read_regular(path, max_bytes("RULES")), str(path))

    def _add_list(self, item: dict[str, Any], where: str) -> None:
        name, items = item["list"], item.get("items", [])
        if not isinstance(name, str) or not isinstance(items, list):
            raise InputError(f"{where}: a list needs a name and 'items' (a YAML list)")
        values = [str(v) for v in items]
        if item.get("append") and name in self.lists:
            self.lists[name].extend(values)
        else:
            self.lists[name] = values

    def _add_macro(self, item: dict[str, Any], where: str) -> None:
        name, condition = item["macro"], item.get("condition")
        if not isinstance(name, str) or not isinstance(condition, str):
            raise InputError(f"{where}: a macro needs a name and a 'condition'")
        self.macros[name] = condition

    def _add_rule(self, item: dict[str, Any], where: str) -> None:
        rule_id = item["rule"]
        unknown = set(item) - RULE_KEYS
        if not isinstance(rule_id, str) or unknown:
            raise InputError(f"{where}: rule {rule_id!r}: unknown keys {sorted(unknown)}")
        if "condition" in item:
            self.rules[rule_id] = dict(item)
            return
        existing = self.rules.get(rule_id)
        if existing is None:
            raise InputError(f"{where}: rule {rule_id!r} has no condition and no rule to modify")
        for key, value in item.items():
            if key == "exceptions":
                existing["exceptions"] = _merge_exceptions(existing.get("exceptions") or [], value)
            else:
                existing[key] = value

    def compile(self, intel: IntelDB | None = None) -> RuleSet:
        """Compile every enabled rule; raise InputError naming the rule at fault."""
        sources = load_sources()
        intel = intel or IntelDB()
        lists = _expand_lists(self.lists)
        macros: dict[str, Node] = {}
        for name, text in self.macros.items():
            try:
                macros[name] = parse_condition(text)
            except ConditionError as exc:
                raise InputError(f"macro {name!r}: {exc}") from None
        compiled: list[CompiledRule] = []
        for rule_id, raw in self.rules.items():
            if raw.get("enabled", True) is False:
                continue
            try:
                compiled.append(_compile_rule(rule_id, raw, sources, macros, lists, intel))
            except InputError as exc:
                raise InputError(f"rule {rule_id!r}: {exc.message}", hint=exc.hint) from None
        return RuleSet(compiled, sources)


def _merge_exceptions(old: list[Any], new: Any) -> list[Any]:
    if not isinstance(new, list):
        raise InputError("'exceptions' must be a list")
    merged = [dict(e) for e in old if isinstance(e, dict)]
    by_name = {e.get("name"): e for e in merged}
    for exc in new:
        if isinstance(exc, dict) and exc.get("name") in by_name and "fields" not in exc:
            target = by_name[exc["name"]]
            target["values"] = list(target.get("values") or []) + list(exc.get("values") or [])
        else:
            merged.append(exc)
    return merged


def _expand_lists(raw: Mapping[str, list[str]]) -> dict[str, tuple[str, ...]]:
    """Lists whose items name other lists are flattened (one level of nesting per pass)."""
    out: dict[str, tuple[str, ...]] = {}

    def flat(name: str, seen: tuple[str, ...]) -> tuple[str, ...]:
        if name in out:
            return out[name]
        items: list[str] = []
        for item in raw[name]:
            if item in raw and item not in seen:
                items.extend(flat(item, (*seen, item)))
            else:
                items.append(item)
        out[name] = tuple(items)
        return out[name]

    for name in raw:
        flat(name, (name,))
    return out


def _exceptions_node(raw: Any) -> Node | None:
    if not raw:
        return None
    if not isinstance(raw, list):
        raise InputError("'exceptions' must be a list")
    branches: list[Node] = []
    for exc in raw:
        if not isinstance(exc, dict):
            raise InputError("each exception is a mapping with fields and values")
        names = exc.get("fields") or ([exc["field"]] if "field" in exc else [])
        if isinstance(names, str):
            names = [names]
        comps = exc.get("comps") or ["="] * len(names)
        if isinstance(comps, str):
            comps = [comps] * len(names)
        if not names or len(comps) != len(names):
            raise InputError(f"exception {exc.get('name')!r}: needs fields and one comp per field")
        for value in exc.get("values") or []:
            row = value if isinstance(value, list) and len(names) > 1 else [value]
            if len(row) != len(names):
                raise InputError(
                    f"exception {exc.get('name')!r}: {value!r} needs {len(names)} values"
                )
            parts: list[Node] = []
            for name, comp, item in zip(names, comps, row, strict=True):
                listed = isinstance(item, list)
                items = item if listed else [item]
                parts.append(
                    Compare(
                        str(name), str(comp), tuple(Literal(str(i), True) for i in items), listed
                    )
                )
            branches.append(parts[0] if len(parts) == 1 else And(tuple(parts)))
    if not branches:
        return None
    return branches[0] if len(branches) == 1 else Or(tuple(branches))


def _severity(text: Any) -> Severity:
    if not isinstance(text, str):
        raise InputError("severity must be a name such as high")
    try:
        return Severity.parse(_SEVERITY_ALIASES.get(text.strip().lower(), text))
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _compile_rule(
    rule_id: str,
    raw: dict[str, Any],
    sources: Mapping[str, SourceSpec],
    macros: Mapping[str, Node],
    lists: Mapping[str, tuple[str, ...]],
    intel: IntelDB,
) -> CompiledRule:
    source = sources.get(str(raw.get("source", "")))
    if source is None:
        raise InputError(f"unknown source {raw.get('source')!r} (one of {', '.join(sources)})")
    condition = raw.get("condition")
    if not isinstance(condition, str):
        raise InputError("condition must be a string")
    tree = expand(parse_condition(condition), macros, lists)
    exceptions = _exceptions_node(raw.get("exceptions"))
    if exceptions is not None:
        exceptions = expand(exceptions, macros, lists)
    compiler = Compiler(source.fields, intel)
    full = tree if exceptions is None else And((tree, Not(exceptions)))
    match = compiler.compile(full)
    output = _output_parts(str(raw.get("output") or raw.get("title") or rule_id), compiler)
    evidence_names = fields_of(tree) + [p.field.name for p in output if p.field]
    evidence = tuple(compiler.field(n) for n in dict.fromkeys(evidence_names))
    tactic, technique = str(raw.get("tactic", "")), str(raw.get("technique", ""))
    mappings = {k: v for k, v in (("mitre", technique), ("mitre-tactic", tactic)) if v}
    if raw.get("defender"):
        mappings["defender"] = str(raw["defender"])
    refs = raw.get("references") or []
    rule = Rule(
        id=rule_id,
        title=str(raw.get("title") or rule_id),
        severity=_severity(raw.get("severity", "medium")),
        description=str(raw.get("description", "")),
        rationale=str(raw.get("rationale", "")),
        remediation=str(raw.get("remediation", "")),
        references=tuple(str(r) for r in refs) if isinstance(refs, list) else (),
        mappings=mappings,
    )
    return CompiledRule(
        rule=rule,
        source=source.name,
        match=match,
        evidence=evidence,
        output=output,
        tactic=tactic,
        technique=technique,
        constraints=constraints(tree, frozenset(source.index_fields)),
    )


def _output_parts(template: str, compiler: Compiler) -> tuple[OutputPart, ...]:
    parts: list[OutputPart] = []
    pos = 0
    for match in _OUTPUT_FIELD.finditer(template):
        parts.append(OutputPart(template[pos : match.start()]))
        parts.append(OutputPart("", compiler.field(match.group(1).rstrip("."))))
        pos = match.end()
    parts.append(OutputPart(template[pos:]))
    return tuple(p for p in parts if p.text or p.field)


class RuleSet:
    """Compiled rules, indexed per source."""

    def __init__(self, rules: Iterable[CompiledRule], sources: Mapping[str, SourceSpec]) -> None:
        self.rules = {r.rule.id: r for r in rules}
        self.sources = dict(sources)
        # Rules that cannot match (their threat lists are not loaded) stay listed but are
        # never evaluated.
        self.indexes = {
            name: RuleIndex(
                spec.index_fields,
                [r for r in self.rules.values() if r.source == name and r.match is not NEVER],
            )
            for name, spec in sources.items()
        }

    def matches(self, event: Event) -> list[CompiledRule]:
        index = self.indexes.get(event.source)
        return index.matches(event) if index is not None else []


def builtin_texts() -> list[tuple[str, str]]:
    """(origin, text) of every built-in rule file, in load order."""
    package = resources.files("seawall.runtime.rules")
    return [(f"built-in {n}", package.joinpath(n).read_text("utf-8")) for n in BUILTIN_FILES]


def load_rules(
    user_files: Iterable[Path] = (), intel: IntelDB | None = None, builtin: bool = True
) -> RuleSet:
    """The built-in pack (unless ``builtin`` is False) plus ``user_files``, compiled."""
    pack = RulePack()
    if builtin:
        for origin, text in builtin_texts():
            pack.add_text(text, origin)
    for path in user_files:
        pack.add_file(path)
    return pack.compile(intel)
