"""Decoding untrusted JSON into declared types, with one kind of error message.

Every JSON reader goes through :func:`decode_json` (or :func:`parse_json`): the nesting and
the number of values are checked before any parser recurses or builds anything
(:mod:`seawall.safety.nesting`), then msgspec decodes and type-checks in one pass in C
against a struct (or ``Any``). A wrong type is reported as the field and the two
types, ``FILE: field statements: expected list, got int``, whatever the reader.

Multi-record inputs declare their records as ``msgspec.Raw`` in the envelope and decode them
one by one with :func:`decode_records`, so that one bad record is reported and skipped while
a bad envelope refuses the whole input. A reader with a decoder of its own (the result
contract's) calls :func:`check_json` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeVar, overload

import msgspec

from seawall.errors import InputError, UnsafeInputError
from seawall.safety.limits import max_count
from seawall.safety.nesting import MAX_JSON_DEPTH, json_problem

T = TypeVar("T")
_TYPE_NAMES = {"array": "list", "object": "object", "str": "string", "null": "null"}
_EXPECTED = re.compile(r"^Expected `([^`]+)`, got `([^`]+)`(?: - at `\$(.*)`)?$")
_AT = re.compile(r"^(.*?) - at `\$(.*)`$")


def _type(name: str) -> str:
    return " or ".join(_TYPE_NAMES.get(part, part) for part in name.split(" | "))


def _field(path: str) -> str:
    return path.lstrip(".") or "the document"


def describe(error: msgspec.ValidationError) -> str:
    """msgspec's message in Seawall's words: ``field X: expected list, got int``."""
    message = str(error)
    expected = _EXPECTED.match(message)
    if expected:
        wanted, got, path = expected.groups()
        where = f"field {_field(path)}: " if path else ""
        return f"{where}expected {_type(wanted)}, got {_type(got)}"
    located = _AT.match(message)
    if located:
        problem, path = located.groups()
        return f"field {_field(path)}: {problem[:1].lower()}{problem[1:]}"
    return message[:1].lower() + message[1:]


class JsonError(ValueError):
    """Not JSON, or not of the declared type; the message names the field."""


class JsonLimitError(JsonError):
    """Nested too deep, or too many values, to be parsed at all."""


def _problem(data: bytes, max_values: int | None = None) -> str:
    limit = max_values if max_values is not None else max_count("JSON_VALUES")
    return json_problem(data, MAX_JSON_DEPTH, limit)


def check_json(data: bytes, name: str) -> None:
    """Refuse ``data`` as :func:`decode_json` would for its depth or size (UnsafeInputError
    naming ``name``), without decoding it: for a reader with a decoder of its own."""
    problem = _problem(data)
    if problem:
        raise UnsafeInputError(f"{name}: {problem}")


@overload
def parse_json(data: bytes, *, max_values: int | None = None) -> Any: ...
@overload
def parse_json(data: bytes, type: type[T], *, max_values: int | None = None) -> T: ...
def parse_json(data: bytes, type: Any = Any, *, max_values: int | None = None) -> Any:
    """``data`` decoded as ``type``; :class:`JsonError` without a name, for readers of
    records that report their own (an OSV record, an event line). Refused unparsed
    (:class:`JsonLimitError`): nesting deeper than
    :data:`~seawall.safety.nesting.MAX_JSON_DEPTH`, more than ``max_values`` values
    (default: the ``JSON_VALUES`` cap)."""
    problem = _problem(data, max_values)
    if problem:
        raise JsonLimitError(problem)
    try:
        return msgspec.json.decode(data, type=type)
    except msgspec.ValidationError as exc:
        raise JsonError(describe(exc)) from None
    except msgspec.DecodeError as exc:
        raise JsonError(f"not valid JSON: {str(exc)[:200]}") from None


@overload
def decode_json(data: bytes, name: str) -> Any: ...
@overload
def decode_json(data: bytes, name: str, type: type[T]) -> T: ...
def decode_json(data: bytes, name: str, type: Any = Any) -> Any:
    """``data`` decoded as ``type``. UnsafeInputError when it nests too deep or holds too
    many values, InputError when it is not JSON or not of that type, both naming ``name``."""
    try:
        return parse_json(data, type)
    except JsonLimitError as exc:
        raise UnsafeInputError(f"{name}: {exc}") from None
    except JsonError as exc:
        raise InputError(f"{name}: {exc}") from None


def decode_records(
    raws: Iterable[msgspec.Raw], type: type[T], name: str, label: str
) -> tuple[list[T], list[str]]:
    """Each of the records ``raws`` (kept raw in a decoded envelope) decoded as ``type``:
    the good ones, and a message for each bad one (``NAME: LABEL 3: problem; skipped``)."""
    good: list[T] = []
    skipped: list[str] = []
    for number, raw in enumerate(raws, 1):
        try:
            good.append(parse_json(bytes(raw), type))
        except JsonError as exc:
            skipped.append(f"{name}: {label} {number}: {exc}; skipped")
    return good, skipped
