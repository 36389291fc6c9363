"""YAML from untrusted files, with bounded cost: no recursion, no alias bombs, no surprises.

Built on libyaml's event stream (PyYAML's C parser, a state machine) with an explicit stack
instead of PyYAML's composer and constructor, so that:

- nesting deeper than ``max_depth`` is refused before anything recurses;
- aliases are expanded against a budget: every node an alias copies counts toward
  ``max_nodes``, so the "billion laughs" (a few lines doubling an anchor thirty times)
  stops at the budget instead of at the machine's memory;
- scalars resolve as JSON would: strings, integers, floats, booleans and null (YAML 1.1's
  ``yes``/``no``/``on``/``off`` too, as PyYAML and Kubernetes' go-yaml read them);
  timestamps, binary, sets and ``!!python/...`` tags are never built (a timestamp stays
  the string it was, so ``built: 2024-13-45`` is an annotation like any other); an explicit
  ``!!int abc`` or an integer of thousands of digits is a clear error, not a crash;
- merge keys (``<<: *defaults``) merge as PyYAML and go-yaml merge them;
- ``strings=True`` keeps every plain scalar a string but booleans and null (lockfiles: a
  version ``5.4`` stays ``"5.4"``).

Errors are :class:`YamlError` (a ValueError) naming the line.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml

from seawall.errors import InputError, UnsafeInputError

MAX_DEPTH = 64
MAX_NODES = 2_000_000  # a 200,000-object cluster listing is about a million nodes
MAX_INT_DIGITS = 100
_LOADER: type[yaml.CSafeLoader] | type[yaml.SafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})
_FALSE = frozenset({"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})
_COLLECTION_TAGS = frozenset({None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
# YAML 1.1's numbers as PyYAML resolves them (what PyYAML writes reads back the same);
# sexagesimal (1:30) and binary (0b1) integers are left as strings, as Kubernetes leaves them
# (underscores are separators, so each form needs a digit besides them: ``0x_`` and ``._`` are
# strings, as they are to go-yaml)
_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_HEX = re.compile(r"^[-+]?0x_*[0-9a-fA-F][0-9a-fA-F_]*$")
_OCT = re.compile(r"^[-+]?0[0-7_]+$")
_FLOAT = re.compile(r"^[-+]?([0-9][0-9_]*\.[0-9_]*|\._*[0-9][0-9_]*)([eE][-+][0-9]+)?$")
_SPECIAL_FLOAT = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"),
                  ".nan": float("nan"), ".Inf": float("inf"), "-.Inf": float("-inf"),
                  ".NaN": float("nan"), ".INF": float("inf"), "-.INF": float("-inf")}  # fmt: skip
_STR_TAGS = frozenset({"tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp",
                       "tag:yaml.org,2002:binary", "!"})  # fmt: skip
_NO_KEY = object()
_MERGE = object()  # the plain key ``<<``: merge the mappings it names, as PyYAML and go-yaml do


class YamlError(ValueError):
    """The document is not YAML Seawall reads, or exceeds a budget."""


class YamlLimitError(YamlError):
    """The document exceeds a budget: nesting, nodes (aliases included) or documents."""


def _line(event: yaml.Event) -> str:
    mark = getattr(event, "start_mark", None)
    return f"line {mark.line + 1}: " if mark is not None else ""


def _integer(text: str, event: yaml.Event) -> int:
    digits = text.replace("_", "")
    if len(digits) > MAX_INT_DIGITS:
        raise YamlError(f"{_line(event)}integer of more than {MAX_INT_DIGITS} digits")
    if _HEX.match(text):
        return int(digits, 16)
    if _OCT.match(text):
        return int(digits, 8)
    return int(digits)


def _scalar(event: yaml.ScalarEvent, strings: bool) -> Any:
    text, tag = event.value, event.tag
    if tag in _STR_TAGS or event.style:  # quoted, or block (| >), or tagged a string
        if tag not in (None, "!") and tag not in _STR_TAGS:
            return _tagged(text, tag, event)
        return text
    if tag is not None:
        return _tagged(text, tag, event)
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if strings:
        return text
    if _INT.match(text) or _HEX.match(text) or _OCT.match(text):
        return _integer(text, event)
    if text in _SPECIAL_FLOAT:
        return _SPECIAL_FLOAT[text]
    if _FLOAT.match(text):
        if len(text) > MAX_INT_DIGITS:
            raise YamlError(f"{_line(event)}number of more than {MAX_INT_DIGITS} characters")
        return float(text.replace("_", ""))
    return text


def _tagged(text: str, tag: str, event: yaml.Event) -> Any:
    """An explicitly tagged scalar: the JSON types only, checked."""
    try:
        if tag == "tag:yaml.org,2002:int":
            if not (_INT.match(text) or _HEX.match(text) or _OCT.match(text)):
                raise ValueError(text)
            return _integer(text, event)
        if tag == "tag:yaml.org,2002:float":
            return float(text.replace("_", "")) if len(text) <= MAX_INT_DIGITS else float(text)
        if tag == "tag:yaml.org,2002:bool":
            if text in _TRUE or text in _FALSE:
                return text in _TRUE
            raise ValueError(text)
        if tag == "tag:yaml.org,2002:null":
            return None
    except ValueError:
        kind = tag.rsplit(":", 1)[-1]
        raise YamlError(f"{_line(event)}{text[:40]!r} is not a valid {kind}") from None
    raise YamlError(f"{_line(event)}unsupported tag {tag[:60]}")


def _plain(event: yaml.Event) -> bool:
    return isinstance(event, yaml.ScalarEvent) and event.tag is None and not event.style


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _merged(mapping: dict[Any, Any], event: yaml.Event) -> dict[Any, Any]:
    """``mapping`` with the mappings of its ``<<`` key merged in: its own keys win, and of
    a list of mappings the earlier ones."""
    sources = _listed(mapping.pop(_MERGE))
    if not all(isinstance(source, dict) for source in sources):
        raise YamlError(f"{_line(event)}<< merges a mapping or a list of mappings")
    merged: dict[Any, Any] = {}
    for source in reversed(sources):
        merged.update(source)
    merged.update(mapping)
    return merged


def load_yaml(
    data: bytes | str,
    *,
    strings: bool = False,
    aliases: bool = True,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
    max_documents: int | None = None,
) -> list[Any]:
    """Every document of a YAML stream as dicts, lists and scalars (see the module); at most
    ``max_documents`` of them when given (counted as they start, before they are built).
    ``aliases=False`` refuses any alias, for formats whose writers never emit one (pnpm
    lockfiles): one there is a sign of a crafted file."""
    documents: list[Any] = []
    containers: list[dict[Any, Any] | list[Any]] = []
    keys: list[object] = []  # the pending key of each open mapping
    anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, its node count)
    open_anchors: list[tuple[str | None, int]] = []  # (anchor, nodes when it opened)
    nodes = 0

    def attach(value: Any, event: yaml.Event) -> None:
        if not containers:
            documents.append(value)
            return
        parent = containers[-1]
        if isinstance(parent, list):
            parent.append(value)
        elif keys[-1] is _NO_KEY:
            if isinstance(value, dict | list):
                raise YamlError(f"{_line(event)}mapping keys must be scalars")
            keys[-1] = _MERGE if value == "<<" and _plain(event) else value
        elif keys[-1] is _MERGE and _MERGE in parent:  # a second <<: the first one wins
            parent[_MERGE] = [*_listed(parent[_MERGE]), *_listed(value)]
            keys[-1] = _NO_KEY
        else:
            parent[keys[-1]] = value
            keys[-1] = _NO_KEY

    def count(more: int, event: yaml.Event) -> None:
        nonlocal nodes
        nodes += more
        if nodes > max_nodes:
            raise YamlLimitError(f"{_line(event)}more than {max_nodes} nodes (aliases included)")

    try:
        for event in yaml.parse(data, Loader=_LOADER):
            if isinstance(event, yaml.ScalarEvent):
                count(1, event)
                value = _scalar(event, strings)
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
                attach(value, event)
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                if len(containers) >= max_depth:
                    raise YamlLimitError(f"{_line(event)}nested deeper than {max_depth} levels")
                if event.tag not in _COLLECTION_TAGS:
                    raise YamlError(f"{_line(event)}unsupported tag {str(event.tag)[:60]}")
                count(1, event)
                containers.append({} if isinstance(event, yaml.MappingStartEvent) else [])
                keys.append(_NO_KEY)
                open_anchors.append((event.anchor, nodes))
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                keys.pop()
                value = containers.pop()
                if isinstance(value, dict) and _MERGE in value:
                    value = _merged(value, event)
                anchor, started = open_anchors.pop()
                if anchor:
                    anchors[anchor] = (value, nodes - started + 1)
                attach(value, event)
            elif isinstance(event, yaml.AliasEvent):
                if not aliases:
                    raise YamlError(f"{_line(event)}aliases are not allowed in this file")
                if event.anchor not in anchors:
                    raise YamlError(f"{_line(event)}unknown alias *{event.anchor}")
                value, size = anchors[event.anchor]
                count(size, event)
                attach(copy.deepcopy(value) if isinstance(value, dict | list) else value, event)
            elif isinstance(event, yaml.DocumentStartEvent):
                anchors.clear()  # anchors do not cross documents
                if max_documents is not None and len(documents) >= max_documents:
                    raise YamlLimitError(f"{_line(event)}more than {max_documents} documents")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "nesting depth" in str(exc):
            raise YamlLimitError(f"{where}nested deeper than {max_depth} levels") from None
        raise YamlError(f"{where}{problem}") from None
    return documents


def read_yaml(data: bytes | str, name: str, **budgets: Any) -> list[Any]:
    """:func:`load_yaml` for a named input: a budget exceeded is an UnsafeInputError, any
    other problem an InputError, both naming ``name`` (``FILE: invalid YAML: line 3: ...``)."""
    try:
        return load_yaml(data, **budgets)
    except YamlLimitError as exc:
        raise UnsafeInputError(f"{name}: {exc}") from None
    except YamlError as exc:
        raise InputError(f"{name}: invalid YAML: {exc}") from None
