"""How deeply a JSON document nests, and how many values it holds, found before any parser
builds it.

Parsers that recurse (Python's ``json``, msgspec) stop at the interpreter's recursion limit,
which other code may raise: the limit would then depend on the process, and a deep enough
document ends in a RecursionError or worse. And a parser builds every value it reads: 32 MB
of ``[{},{},...]`` is ten million dictionaries, gigabytes of memory. These checks run at C
speed over the bytes (a million brackets in about 70 ms) and do not recurse: the document's
skeleton is what remains outside strings (escaped quotes and backslashes removed first) of
its brackets and commas. Its values are at most its commas plus its opening brackets plus
one; its depth is found by removing innermost bracket pairs one level per pass.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 64  # Seawall's own documents nest about 8 levels; Kubernetes objects ~20
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{},"')
_INNERMOST = re.compile(rb"\[\]|\{\}")  # one level per pass: pairs of this level only
_OPENING_RUN = re.compile(rb"[\[{]+")


def _skeleton(data: bytes) -> bytes:
    """The brackets and commas of ``data`` that are outside strings, in order."""
    plain = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    return b"".join(plain.split(b'"')[::2])


def _too_deep(brackets: bytes, limit: int) -> bool:
    for removed in range(limit):
        if not brackets:
            return False
        inner_removed = _INNERMOST.sub(b"", brackets)
        if inner_removed == brackets:
            longest = max(map(len, _OPENING_RUN.findall(brackets)), default=0)
            return longest + removed > limit
        brackets = inner_removed
    return b"[" in brackets or b"{" in brackets


def json_too_deep(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if ``data``, read as JSON, nests arrays and objects more than ``limit`` deep.

    Malformed bracketing (``[[[[`` never closed, ``[}``) is judged by how deep a parser
    would descend before it finds the error: the longest run of opening brackets left once
    the well-formed pairs are removed, plus the levels removed."""
    return _too_deep(_skeleton(data).replace(b",", b""), limit)


def json_problem(data: bytes, max_depth: int, max_values: int) -> str:
    """Why ``data`` is not to be parsed as JSON (nested deeper than ``max_depth``, or more
    than ``max_values`` values, an upper bound), or "" (one pass over the bytes for both)."""
    skeleton = _skeleton(data)
    values = skeleton.count(b",") + skeleton.count(b"[") + skeleton.count(b"{") + 1
    if values > max_values:
        return f"JSON of more than {max_values} values"
    if _too_deep(skeleton.replace(b",", b""), max_depth):
        return f"JSON nested deeper than {max_depth} levels"
    return ""
