"""Strings from an image made safe to write: raw bytes and control characters escaped.

File names in a layer are bytes; the tar reader keeps those that are not UTF-8 as surrogate
escapes (``b"caf\\xe9"`` becomes ``"caf\\udce9"``), so paths stay exact while layers are read
and merged. No output format can encode such a string (UTF-8 refuses surrogates), and a
name holding control characters (``ESC ]52;...``) would drive the terminal a table is
printed on, or break its rows. So a result is passed through :func:`printable_struct`
before it is written anywhere: a raw byte becomes the four characters ``\\xe9``, a C0
control or DEL ``\\x1b``, a C1 control ``\\u0085`` and any other lone surrogate (from a JSON
``"\\ud800"`` escape) ``\\ud800``.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same, as msgspec writes them in JSON: escapes for C0, raw UTF-8 for DEL and C1. (A
# literal backslash before one of these letters matches too: a harmless second look.)
_UNPRINTABLE_JSON = re.compile(rb"\\(?:[bfnrt]|u00[01])|\x7f|\xc2[\x80-\x9f]")
_RAW_BYTES = range(0xDC80, 0xDD00)  # what surrogateescape maps the bytes 0x80-0xff to

S = TypeVar("S", bound=msgspec.Struct)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code in _RAW_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every raw byte, control character and surrogate replaced by a
    backslash escape (unchanged if there is none)."""
    return _UNPRINTABLE.sub(_escape, text)


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

    Costs one encode and one scan of it when there is nothing to escape (the usual case);
    otherwise the value is rebuilt through builtins."""
    try:
        clean = not _UNPRINTABLE_JSON.search(msgspec.json.encode(value))
    except UnicodeEncodeError:
        clean = False
    if clean:
        return value
    return msgspec.convert(_walk(msgspec.to_builtins(value)), type(value))
