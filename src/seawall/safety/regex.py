"""Regular expressions from untrusted sources (policies, rules, test suites), on RE2.

Python's ``re`` backtracks: ``^([a-z0-9]+-?)+$`` against forty characters and a ``!`` runs
for minutes while holding the GIL, freezing every other thread of the process. RE2 matches
in time linear in the input and refuses, at compile time, what needs backtracking
(backreferences, lookaround); it is also the dialect Kubernetes' CEL specifies. Compiled
patterns are cached, since policies apply the same few patterns to every object.
"""

from __future__ import annotations

import functools
from typing import Any

import re2

MAX_PATTERN_LENGTH = 4096  # longer patterns are refused before RE2 sees them
_CACHED_PATTERNS = 1024

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # errors are raised as RegexError, not printed to stderr


class RegexError(ValueError):
    """The pattern is not an RE2 regular expression (or is too long)."""


@functools.lru_cache(maxsize=_CACHED_PATTERNS)
def compile_re2(pattern: str) -> Any:
    """``pattern`` compiled by RE2; RegexError says why it cannot be."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise RegexError(f"regular expression longer than {MAX_PATTERN_LENGTH} characters")
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexError(
            f"{pattern[:80]!r} is not an RE2 regular expression ({reason}; "
            "backreferences and lookaround are not supported)"
        ) from None
