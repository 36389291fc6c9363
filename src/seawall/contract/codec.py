"""Write and read envelopes: JSON out, validated JSON in.

Reading checks, in order: the bytes are JSON nested no deeper than 64 levels (checked
before any parser recurses); the schema id is the one this Seawall speaks
(an unknown or future version is refused by name, not half-read); every field has its type
(msgspec names the field: ``Expected `str`, got `int` - at `$.results[0].rule```); and
the cross-references hold (each rule once, each result's rule listed, fingerprints unique).
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from seawall.contract.envelope import SCHEMA_ID, Envelope
from seawall.errors import InputError
from seawall.safety.nesting import MAX_JSON_DEPTH, json_too_deep


class ContractError(InputError):
    """A document is not a valid result envelope."""


class _Head(msgspec.Struct):
    schema: object = None
    kind: object = None


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Envelope)


def encode(envelope: Envelope) -> bytes:
    """Compact JSON, as uploads send it."""
    return _encoder.encode(envelope)


def encode_pretty(envelope: Envelope) -> str:
    """Indented JSON, as ``-f json`` writes it."""
    return msgspec.json.format(_encoder.encode(envelope).decode(), indent=2)


def decode(data: bytes, source: str = "document") -> Envelope:
    """The envelope in ``data``; :class:`ContractError` naming ``source`` and the problem."""
    if json_too_deep(data):
        raise ContractError(
            f"{source}: not JSON: nested too deeply (more than {MAX_JSON_DEPTH} levels)"
        )
    try:
        head = msgspec.json.decode(data, type=_Head)
    except msgspec.DecodeError as exc:
        raise ContractError(f"{source}: not JSON: {exc}") from None
    except msgspec.ValidationError:
        raise ContractError(f"{source}: not a JSON object") from None
    if head.schema != SCHEMA_ID:
        raise ContractError(
            f"{source}: schema {head.schema!r} is not {SCHEMA_ID!r}",
            hint="write it with `-f json` of this Seawall version",
        )
    try:
        envelope = _decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ContractError(f"{source}: {exc}") from None
    problem = next(problems(envelope), None)
    if problem is not None:
        raise ContractError(f"{source}: {problem}")
    return envelope


def problems(envelope: Envelope) -> Iterator[str]:
    """What is inconsistent inside a well-typed envelope (nothing, for a valid one)."""
    if not envelope.asset.id:
        yield "asset.id is empty"
    rules: set[str] = set()
    for index, rule in enumerate(envelope.rules):
        if rule.id in rules:
            yield f"rules[{index}]: rule {rule.id!r} is listed twice"
        rules.add(rule.id)
    fingerprints: set[str] = set()
    for index, result in enumerate(envelope.results):
        if result.rule not in rules:
            yield f"results[{index}]: rule {result.rule!r} is not in rules"
        if not result.fingerprint:
            yield f"results[{index}]: fingerprint is empty"
        elif result.fingerprint in fingerprints:
            yield f"results[{index}]: fingerprint {result.fingerprint} is not unique"
        fingerprints.add(result.fingerprint)
    for index, alert in enumerate(envelope.alerts):
        if alert.rule not in rules:
            yield f"alerts[{index}]: rule {alert.rule!r} is not in rules"
