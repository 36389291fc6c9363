"""How deeply a JSON document nests, found before any parser recurses into it.

Parsers that recurse (Python's ``json``, msgspec) stop at the interpreter's recursion limit,
which other code may raise: the limit would then depend on the process, and a deep enough
document ends in a RecursionError or worse. This check runs at C speed over the bytes (a
million brackets in about 70 ms) and does not recurse: strings are cut out (escaped quotes
and backslashes first), the brackets that remain are kept, and innermost pairs are removed
one level per pass.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 64  # Seawall's own documents nest about 8 levels; Kubernetes objects ~20
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_INNERMOST = re.compile(rb"\[\]|\{\}")  # one level per pass: pairs of this level only
_OPENING_RUN = re.compile(rb"[\[{]+")


def json_too_deep(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if ``data``, read as JSON, nests arrays and objects more than ``limit`` deep.

    Malformed bracketing (``[[[[`` never closed, ``[}``) is judged by how deep a parser
    would descend before it finds the error: the longest run of opening brackets left once
    the well-formed pairs are removed, plus the levels removed."""
    plain = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(plain.split(b'"')[::2]).translate(None, _NOT_BRACKETS)
    for removed in range(limit):
        if not brackets:
            return False
        inner_removed = _INNERMOST.sub(b"", brackets)
        if inner_removed == brackets:
            longest = max(map(len, _OPENING_RUN.findall(brackets)), default=0)
            return longest + removed > limit
        brackets = inner_removed
    return b"[" in brackets or b"{" in brackets
