"""Strings from an image made safe to encode: raw bytes shown as ``\\xNN`` escapes.

File names in a layer are bytes; the tar reader keeps those that are not UTF-8 as surrogate
escapes (``b"caf\\xe9"`` becomes ``"caf\\udce9"``), so paths stay exact while layers are read
and merged. No output format can encode such a string (UTF-8 refuses surrogates), so a
result is passed through :func:`printable_struct` before it is written anywhere: each raw
byte becomes the four characters ``\\xe9``, and any other lone surrogate (from a JSON
``"\\ud800"`` escape) ``\\ud800``.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

_SURROGATE = re.compile("[\ud800-\udfff]")
_RAW_BYTES = range(0xDC80, 0xDD00)  # what surrogateescape maps the bytes 0x80-0xff to

S = TypeVar("S", bound=msgspec.Struct)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if code in _RAW_BYTES else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every surrogate replaced by a backslash escape (unchanged if none)."""
    return _SURROGATE.sub(_escape, text)


def _walk(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list | tuple):
        return [_walk(item) for item in value]
    if isinstance(value, dict):
        return {_walk(key): _walk(item) for key, item in value.items()}
    return value


def printable_struct(value: S) -> S:
    """``value`` with :func:`printable` applied to every string in it, keys included.

    Costs one encode when there is nothing to escape (the usual case); otherwise the value
    is rebuilt through builtins."""
    try:
        msgspec.json.encode(value)
    except UnicodeEncodeError:
        return msgspec.convert(_walk(msgspec.to_builtins(value)), type(value))
    return value
