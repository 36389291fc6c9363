"""Compile condition trees to Python closures, once, at load time.

Macros and lists are inlined first (``expand``), literals are converted to the field's type
and each node becomes a closure over its children, so evaluating a rule is a few function
calls and no tree walking. Unknown fields, macros, operators and bad literals are load-time
errors: a rule that would silently never match is worse than one that does not load.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from typing import Any

from seawall.runtime.events import Event, FieldSpec, FieldType, Value
from seawall.runtime.intel import IntelDB, IpMatcher
from seawall.runtime.rules.parser import (
    And,
    Compare,
    ConditionError,
    Exists,
    Literal,
    MacroRef,
    Node,
    Not,
    Or,
)
from seawall.safety.regex import RegexError, compile_re2

Predicate = Callable[[Event], bool]
_MISSING: Any = object()
_OPS_BY_TYPE = {
    FieldType.STR: {
        "=", "!=", "in", "contains", "icontains", "startswith", "endswith", "glob", "matches",
        "under", "intel", "<", "<=", ">", ">=",
    },
    FieldType.INT: {"=", "!=", "in", "<", "<=", ">", ">="},
    FieldType.BOOL: {"=", "!="},
    FieldType.IP: {"=", "!=", "in", "intel"},
}  # fmt: skip


def expand(
    node: Node,
    macros: Mapping[str, Node],
    lists: Mapping[str, tuple[str, ...]],
    seen: tuple[str, ...] = (),
) -> Node:
    """``node`` with macros replaced by their trees and list names by their items."""
    if isinstance(node, MacroRef):
        if node.name not in macros:
            raise ConditionError(
                f"{node.name!r} is neither a macro nor followed by an operator",
                hint="write FIELD OP VALUE, or define the macro",
            )
        if node.name in seen:
            raise ConditionError(f"macro {node.name!r} refers to itself")
        return expand(macros[node.name], macros, lists, (*seen, node.name))
    if isinstance(node, And):
        return And(tuple(expand(n, macros, lists, seen) for n in node.items))
    if isinstance(node, Or):
        return Or(tuple(expand(n, macros, lists, seen) for n in node.items))
    if isinstance(node, Not):
        return Not(expand(node.item, macros, lists, seen))
    if isinstance(node, Compare):
        values: list[Literal] = []
        listed = node.listed
        for literal in node.values:
            if not literal.quoted and literal.text in lists:
                values.extend(Literal(item, True) for item in lists[literal.text])
                listed = True
            else:
                values.append(literal)
        return Compare(node.field, node.op, tuple(values), listed)
    return node


def fields_of(node: Node) -> list[str]:
    """Field names an expanded tree reads, in first-use order."""
    out: list[str] = []

    def walk(n: Node) -> None:
        if isinstance(n, And | Or):
            for item in n.items:
                walk(item)
        elif isinstance(n, Not):
            walk(n.item)
        elif isinstance(n, Compare | Exists) and n.field not in out:
            out.append(n.field)

    walk(node)
    return out


def constraints(node: Node, indexed: frozenset[str]) -> dict[str, frozenset[str]]:
    """For each index field, the values an event must have for ``node`` to hold.

    ``a = x and (b in (y, z))`` gives ``{a: {x}, b: {y, z}}``; an ``or`` keeps only the
    fields every branch constrains. A field missing from the result is unconstrained.
    """
    if isinstance(node, Compare) and node.field in indexed and node.op in ("=", "in"):
        return {node.field: frozenset(v.text for v in node.values)}
    if isinstance(node, And):
        out: dict[str, frozenset[str]] = {}
        for item in node.items:
            for name, values in constraints(item, indexed).items():
                out[name] = out[name] & values if name in out else values
        return out
    if isinstance(node, Or):
        branches = [constraints(item, indexed) for item in node.items]
        common = set(branches[0]).intersection(*branches[1:])
        return {name: frozenset().union(*(b[name] for b in branches)) for name in common}
    return {}


class Compiler:
    """Turns expanded trees into predicates for one source's fields."""

    def __init__(self, fields: Mapping[str, FieldSpec], intel: IntelDB) -> None:
        self.fields = fields
        self.intel = intel

    def field(self, name: str) -> FieldSpec:
        spec = self.fields.get(name)
        if spec is None:
            known = ", ".join(sorted(self.fields))
            raise ConditionError(f"unknown field {name!r}", hint=f"known fields: {known}")
        return spec

    def compile(self, node: Node) -> Predicate:
        if isinstance(node, And):
            return _all([self.compile(n) for n in node.items])
        if isinstance(node, Or):
            return _any([self.compile(n) for n in node.items])
        if isinstance(node, Not):
            inner = self.compile(node.item)
            return ALWAYS if inner is NEVER else lambda ev: not inner(ev)
        if isinstance(node, Exists):
            get = getter(self.field(node.field))
            return lambda ev: get(ev) not in (None, "", ())
        if isinstance(node, Compare):
            return self.compare(node)
        raise ConditionError(f"macro {node.name!r} was not expanded")

    def compare(self, node: Compare) -> Predicate:
        spec = self.field(node.field)
        if node.op not in _OPS_BY_TYPE[spec.type]:
            raise ConditionError(
                f"operator {node.op!r} does not apply to {spec.type} field {spec.name}"
            )
        if node.op == "intel" and not any(v.text in self.intel.sets for v in node.values):
            return NEVER  # no such list loaded: the test can never hold
        test = self.scalar_test(spec, node)
        get = getter(spec)
        negate = node.op == "!="
        if spec.multi:

            def any_value(ev: Event) -> bool:
                value = get(ev)
                if not value:
                    return False
                hit = any(test(x) for x in value)  # type: ignore[union-attr]
                return not hit if negate else hit

            return any_value

        def one_value(ev: Event) -> bool:
            value = get(ev)
            if value is None:
                return False
            return not test(value) if negate else test(value)

        return one_value

    def scalar_test(self, spec: FieldSpec, node: Compare) -> Callable[[Any], bool]:
        """The test of one value (``!=`` is built as a negated ``=``)."""
        texts = [v.text for v in node.values]
        op = "=" if node.op == "!=" else node.op
        if node.listed and op == "=":
            op = "in"
        if len(texts) > 1 and op in ("=", "<", "<=", ">", ">="):
            raise ConditionError(f"{spec.name} {node.op} takes one value, not a list")
        if op == "intel":
            intel, categories = self.intel, tuple(texts)
            return lambda x: intel.match(categories, str(x))
        if spec.type is FieldType.IP:
            return _ip_test(texts, spec.name)
        literals = [_convert(spec, t) for t in texts]
        return _value_test(op, literals, spec.name)


def _convert(spec: FieldSpec, text: str) -> Any:
    if spec.type is FieldType.INT:
        try:
            return int(text)
        except ValueError:
            raise ConditionError(f"{spec.name} is a number, not {text!r}") from None
    if spec.type is FieldType.BOOL:
        if text.lower() not in ("true", "false"):
            raise ConditionError(f"{spec.name} is true or false, not {text!r}")
        return text.lower() == "true"
    return text


def _ip_test(texts: list[str], name: str) -> Callable[[Any], bool]:
    matcher = IpMatcher()
    for text in texts:
        if not matcher.add(text):
            raise ConditionError(f"{name}: {text!r} is not an IP address or CIDR")
    return lambda x: matcher.match(x)


def _value_test(op: str, values: list[Any], name: str) -> Callable[[Any], bool]:
    if op == "=":
        value = values[0]
        return lambda x: x == value
    if op == "in":
        members = frozenset(values)
        return lambda x: x in members
    if op in ("<", "<=", ">", ">="):
        bound = values[0]
        compare: Callable[[Any], bool] = {
            "<": lambda x: x < bound,
            "<=": lambda x: x <= bound,
            ">": lambda x: x > bound,
            ">=": lambda x: x >= bound,
        }[op]
        return lambda x: isinstance(x, type(bound)) and compare(x)
    strings = tuple(str(v) for v in values)
    if op == "startswith":
        return lambda x: x.startswith(strings)
    if op == "endswith":
        return lambda x: x.endswith(strings)
    if op in ("contains", "icontains"):  # one regex scan instead of a loop of `in`
        flags = re.IGNORECASE if op == "icontains" else 0
        search = re.compile("|".join(re.escape(s) for s in strings), flags).search
        return lambda x: search(x) is not None
    if op == "under":
        dirs = tuple(s.rstrip("/") + "/" for s in strings)
        exact = frozenset(s.rstrip("/") or "/" for s in strings)
        return lambda x: x in exact or x.startswith(dirs)
    if op == "glob":  # fnmatch's translation never backtracks badly, but needs ``re``
        glob = re.compile("|".join(f"(?:{fnmatch.translate(s)})" for s in strings))
        return lambda x: glob.match(x) is not None
    if op == "matches":  # a rule's own pattern: RE2, linear in the event's text
        try:
            regex = compile_re2("|".join(f"(?:{s})" for s in strings))
        except RegexError as exc:
            raise ConditionError(f"{name} matches: bad regular expression: {exc}") from None
        return lambda x: regex.search(x) is not None
    raise ConditionError(f"unknown operator {op!r}")


def getter(spec: FieldSpec) -> Callable[[Event], Value]:
    """A closure reading one field of an event, computing and caching it on first use."""
    name, extract = spec.name, spec.extract
    if not spec.cached:
        return extract

    def get(ev: Event) -> Value:
        fields = ev.fields
        value = fields.get(name, _MISSING)
        if value is _MISSING:
            value = fields[name] = extract(ev)
        return value  # type: ignore[no-any-return]

    return get


def NEVER(ev: Event) -> bool:
    """A test that cannot hold (say, against a threat list nobody loaded)."""
    return False


def ALWAYS(ev: Event) -> bool:
    return True


def _all(preds: list[Predicate]) -> Predicate:
    if NEVER in preds:
        return NEVER
    preds = [p for p in preds if p is not ALWAYS] or [ALWAYS]
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda ev: a(ev) and b(ev)
    if len(preds) == 3:
        a, b, c = preds
        return lambda ev: a(ev) and b(ev) and c(ev)

    def every(ev: Event) -> bool:
        for pred in preds:  # noqa: SIM110  (a loop is faster than all() over a generator)
            if not pred(ev):
                return False
        return True

    return every


def _any(preds: list[Predicate]) -> Predicate:
    if ALWAYS in preds:
        return ALWAYS
    preds = [p for p in preds if p is not NEVER] or [NEVER]
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda ev: a(ev) or b(ev)

    def some(ev: Event) -> bool:
        for pred in preds:  # noqa: SIM110  (a loop is faster than any() over a generator)
            if pred(ev):
                return True
        return False

    return some
