"""Rego templates evaluated with regorus, the Rust Rego interpreter.

regorus's Python build cannot yet resolve functions brought in by ``import``
(microsoft/regorus#747: ``import data.lib.x.f`` then ``f(y)`` fails with "could not find
function"), while a call through the full path ``data.lib.x.f(y)`` works. So every module
and library is rewritten before it is loaded: each imported name is replaced by its full
``data.`` path outside strings and comments, and the import line is dropped. The rewrite is
exact for Rego's grammar (an import binds a name for the whole module and may not be
shadowed), so templates are accepted as published. The same rewrite gives deprecated
built-ins that OPA still runs and regorus lacks their current names (``re_match`` is
``regex.match``: several library templates use it; ``sprintf`` becomes a Rego function that
pads missing arguments as Go's fmt does, :data:`COMPAT_MODULE`), and a ``;`` marks the end of a
statement where regorus would read the next line's ``(`` as a call
(:func:`separate_statements`), and chained rule bodies get their head again
(:func:`split_chained_bodies`).

Referential data (``data.inventory``, :mod:`seawall.policy.inventory`) is loaded as the
engine's data for the evaluation that needs it, and cleared before the next.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import regorus

from seawall.errors import InputError

_IMPORT = re.compile(
    r"^[ \t]*import[ \t]+(data(?:\.[A-Za-z_]\w*|\[\"[^\"]*\"\])+)"
    r"(?:[ \t]+as[ \t]+([A-Za-z_]\w*))?[ \t]*(?:#.*)?$",
    re.M,
)
_PACKAGE = re.compile(r"^[ \t]*package[ \t]+([\w.]+)", re.M)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
# built-ins regorus lacks or runs differently, by what stands in for them: OPA's deprecated
# re_match is regex.match; sprintf pads missing arguments as Go's fmt (and OPA) does
_RENAMED = {"re_match": "regex.match", "sprintf": "data.seawall_compat.go_sprintf"}
# OPA (without --strict-builtin-errors, as Gatekeeper runs it) makes a built-in that gets an
# argument of the wrong type undefined; regorus fails the whole evaluation. The library's
# poddisruptionbudget template calls endswith(minAvailable, "%") on integers and relies on
# that. These string built-ins are called through guards that are undefined instead.
_GUARDED = {
    name: f"data.seawall_compat.guarded_{name}"
    for name in ("endswith", "startswith", "contains", "lower", "upper", "trim", "trim_prefix",
                 "trim_suffix", "trim_space", "split", "replace", "indexof", "substring")
}  # fmt: skip
# Loaded beside every template. regorus's sprintf fails when the format has more verbs than
# arguments (one of the library's horizontalpodautoscaler messages has); Go's fmt writes
# %!v(MISSING) for each and OPA keeps the violation. (A missing argument of another verb
# than %v is padded the same way, and formatted by that verb.)
COMPAT_MODULE = r"""package seawall_compat

verb_count(format) = n {
  verbs := regex.find_n(`%[-+# 0]*[0-9*]*(\.[0-9*]+)?[a-zA-Z%]`, format, -1)
  n := count(verbs) - count(regex.find_n(`%%`, format, -1))
}

go_sprintf(format, args) = text {
  missing := verb_count(format) - count(args)
  missing > 0
  padding := [m | numbers.range(1, missing)[_]; m := "%!v(MISSING)"]
  text := sprintf(format, array.concat(args, padding))
} else = text {
  text := sprintf(format, args)
}

guarded_endswith(s, x) = r { is_string(s); is_string(x); r := endswith(s, x) }
guarded_startswith(s, x) = r { is_string(s); is_string(x); r := startswith(s, x) }
guarded_contains(s, x) = r { is_string(s); is_string(x); r := contains(s, x) }
guarded_lower(s) = r { is_string(s); r := lower(s) }
guarded_upper(s) = r { is_string(s); r := upper(s) }
guarded_trim(s, cut) = r { is_string(s); is_string(cut); r := trim(s, cut) }
guarded_trim_prefix(s, x) = r { is_string(s); is_string(x); r := trim_prefix(s, x) }
guarded_trim_suffix(s, x) = r { is_string(s); is_string(x); r := trim_suffix(s, x) }
guarded_trim_space(s) = r { is_string(s); r := trim_space(s) }
guarded_split(s, x) = r { is_string(s); is_string(x); r := split(s, x) }
guarded_replace(s, old, new) = r {
  is_string(s); is_string(old); is_string(new); r := replace(s, old, new)
}
guarded_indexof(s, x) = r { is_string(s); is_string(x); r := indexof(s, x) }
guarded_substring(s, start, length) = r {
  is_string(s); is_number(start); is_number(length); r := substring(s, start, length)
}
"""
# what a top-level "{" that opens a term (not a rule body) follows
_TERM_OPENERS = frozenset({"=", ",", "(", "[", ":", "|", ""})
# words after which a line break does not end a statement
_KEYWORDS = frozenset({"not", "with", "as", "in", "some", "every", "if", "contains", "else"})


def package_of(module: str) -> str:
    match = _PACKAGE.search(module)
    if not match:
        raise InputError("Rego module has no package declaration")
    return match.group(1)


def _literal_end(module: str, i: int) -> int:
    """Where the comment or string starting at ``i`` ends (the index after it), or ``i``
    when no comment or string starts there: what every rewrite below leaves untouched."""
    char, n = module[i], len(module)
    if char == "#":
        end = module.find("\n", i)
        return n if end < 0 else end
    if char in '"`':
        j = i + 1
        while j < n and module[j] != char:
            j += 2 if char == '"' and module[j] == "\\" else 1
        return min(j + 1, n)
    return i


def _after_space(module: str, i: int) -> int:
    """The index of the first non-space character at or after ``i`` (the end if none)."""
    while i < len(module) and module[i].isspace():
        i += 1
    return i


def _replace_names(
    module: str, names: Mapping[str, str], calls: Mapping[str, str] | None = None
) -> str:
    """Replace identifiers in ``names`` outside strings and comments, unless they follow a
    dot (a field) or are a key being defined (followed by ``:=`` at rule level is fine);
    those in ``calls`` only where they are called (followed by ``(``: ``contains`` is also
    a keyword)."""
    called = calls or {}
    out: list[str] = []
    i, n = 0, len(module)
    while i < n:
        char = module[i]
        end = _literal_end(module, i)
        if end != i:
            out.append(module[i:end])
            i = end
        elif char.isalpha() or char == "_":
            match = _IDENTIFIER.match(module, i)
            assert match is not None
            word = match.group(0)
            previous = module[i - 1] if i else ""
            replacement = names.get(word)
            if replacement is None and module.startswith("(", match.end()):
                replacement = called.get(word)
            out.append(replacement if replacement and previous != "." else word)
            i = match.end()
        else:
            out.append(char)
            i += 1
    return "".join(out)


def inline_imports(module: str) -> str:
    """``module`` with every ``import data.…`` replaced by full-path references."""
    names: dict[str, str] = {}
    for match in _IMPORT.finditer(module):
        path, alias = match.group(1), match.group(2)
        last = re.split(r"[.\[]", path)[-1].strip('"]')
        names[alias or last] = path
    if not names:
        return module
    return _replace_names(_IMPORT.sub("", module), names)


def separate_statements(module: str) -> str:
    """``module`` with a ``;`` before each line break that ends a statement when the next
    statement opens with ``(``. In Rego a line break separates the expressions of a body;
    regorus reads ``a`` then a next line ``(b) >= 1`` as the call ``a(b)`` (the library's
    horizontalpodautoscaler template has such a body). Only breaks directly inside braces
    (a rule body, a comprehension) after the end of a term are touched, outside strings
    and comments."""
    out: list[str] = []
    stack: list[str] = []  # open brackets
    closing = {")": "(", "]": "[", "}": "{"}
    last = ""  # the last character of code (not whitespace, not a comment)
    word = ""  # the identifier that ends there, if one does
    i, n = 0, len(module)
    while i < n:
        char = module[i]
        end = _literal_end(module, i)
        if end != i:
            out.append(module[i:end])
            if char != "#":  # a string is a term
                last, word = char, ""
            i = end
            continue
        if char == "\n" and stack[-1:] == ["{"] and (last.isalnum() or last in '_])}"`'):
            following = _after_space(module, i)
            if module.startswith("(", following) and word not in _KEYWORDS:
                out.append(";")
        if char in "([{":
            stack.append(char)
        elif char in closing and stack[-1:] == [closing[char]]:
            stack.pop()
        if char.isalnum() or char == "_":
            word = word + char if last.isalnum() or last == "_" else char
        elif not char.isspace():
            word = ""
        if not char.isspace():
            last = char
        out.append(char)
        i += 1
    return "".join(out)


def split_chained_bodies(module: str) -> str:
    """``module`` with each chained rule body given its rule's head again: in Rego v0
    ``head { A } { B }`` is two rules, ``head { A }`` and ``head { B }`` (OPA's parser), but
    regorus reads the second body as an ``else`` and refuses it on a partial set rule ("else
    cannot be used with set rules": the library's noupdateserviceaccount template). A body is
    a ``{`` at the top level that does not open a term (it follows the head, not ``=``,
    ``:=``, ``,``, ``(``, ``[``, ``:`` or ``|``); its head is the code before it on its line.
    Strings and comments are left alone."""
    out: list[str] = []
    depth = 0  # brackets open at the top level
    line_start = 0  # where the current top-level line starts in ``module``
    head = ""  # the head of the last top-level body
    in_body = False  # whether the top-level braces open now (or last closed) are a body
    last = ""  # the last character of code
    i, n = 0, len(module)
    while i < n:
        char = module[i]
        end = _literal_end(module, i)
        if end != i:
            out.append(module[i:end])
            if char != "#":  # a string is a term
                last = char
            i = end
            continue
        if char == "\n" and depth == 0:
            line_start = i + 1
        elif char == "{" and depth == 0:
            in_body = last not in _TERM_OPENERS  # else a term of the head: {"k": v}
            # a chained body has no head on its line (``} {``): it keeps the one before
            if in_body and module[line_start:i].strip():
                head = module[line_start:i].strip()
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        if not char.isspace():
            last = char
        out.append(char)
        i += 1
        if char == "}" and depth == 0 and in_body and head:
            following = _after_space(module, i)
            if module.startswith("{", following):  # a chained body: the same head again
                gap = module[i:following]
                out.append(gap if "\n" in gap else "\n")
                out.append(head + " ")
                i = following
                line_start = following
    return "".join(out)


def prepared(module: str) -> str:
    """``module`` as regorus can load it: imports inlined, built-ins renamed, chained rule
    bodies given their heads, statements that open with ``(`` kept apart from the line
    before."""
    renamed = _replace_names(inline_imports(module), _RENAMED, _GUARDED)
    return separate_statements(split_chained_bodies(renamed))


class RegoProgram:
    """A compiled Rego template: its rewritten module and libraries in a regorus engine.

    regorus engines are "unsendable": usable only on, and to be freed only by, the thread
    that created them. Templates are therefore evaluated in single-threaded worker
    processes (:mod:`seawall.policy.gatekeeper.supervisor`); elsewhere a program is only
    compiled, to check it, and dropped on the same thread.
    """

    def __init__(self, module: str, libs: Sequence[str] = (), name: str = "template") -> None:
        self.package = package_of(module)
        self._holds_data = False
        sources = [(f"{name}.rego", prepared(module)), ("seawall-compat.rego", COMPAT_MODULE)]
        sources += [(f"{name}-lib{i}.rego", prepared(lib)) for i, lib in enumerate(libs)]
        try:
            self._engine: Any = regorus.Engine()
            self._engine.set_rego_v0(True)  # the Gatekeeper library is written in Rego v0
            for label, source in sources:
                self._engine.add_policy(label, source)
        except BaseException as exc:  # Rust panics derive from BaseException
            raise InputError(f"{name}: Rego does not compile: {_first_line(exc)}") from None

    def violations(
        self, review_input: Mapping[str, Any], inventory: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The ``violation`` set for ``review_input`` (``{"review": ..., "parameters": ...}``),
        with ``inventory`` as ``data.inventory`` (the referential data; absent: empty, as
        in a cluster that syncs nothing)."""
        try:
            if self._holds_data:  # an earlier evaluation's inventory is not this one's
                self._engine.clear_data()
                self._holds_data = False
            if inventory:
                self._engine.add_data_json(json.dumps({"inventory": inventory}))
                self._holds_data = True
            self._engine.set_input_json(json.dumps(review_input))
            text = self._engine.eval_rule_as_json(f"data.{self.package}.violation")
        except MemoryError:
            raise
        except BaseException as exc:  # Rust panics derive from BaseException
            raise RuntimeError(_first_line(exc)) from None
        result = json.loads(text)
        if result is None:
            return []
        items = result if isinstance(result, list) else [result]
        return [item if isinstance(item, dict) else {"msg": str(item)} for item in items]


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    interesting = [line for line in lines if line.startswith("error:")]
    location = next((line for line in lines if line.startswith("-->")), "")
    text = interesting[0] if interesting else (lines[0] if lines else type(exc).__name__)
    return f"{text} ({location[3:].strip()})" if location else text
