"""Licence strings as declared by packages, sorted into SPDX ids, expressions and free text."""

from __future__ import annotations

from functools import lru_cache

from license_expression import ExpressionError, get_spdx_licensing

_licensing = get_spdx_licensing()


@lru_cache(maxsize=4096)
def spdx_expression(text: str) -> str | None:
    """``text`` as a valid SPDX expression with known ids, or None for free text."""
    try:
        parsed = _licensing.parse(text, validate=True, strict=True)
    except ExpressionError:
        return None
    return str(parsed) if parsed is not None else None
