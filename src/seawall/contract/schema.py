"""The envelope's JSON Schema, generated from the structs (``docs/schemas/result-v1.json``
is this, committed; a test keeps them equal so a change to the contract is deliberate)."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from seawall.contract.envelope import SCHEMA_ID, Envelope


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :class:`Envelope`, with its id and the schema const."""
    schema = msgspec.json.schema(Envelope)
    envelope = schema["$defs"]["Envelope"]
    envelope["properties"]["schema"] = {"const": SCHEMA_ID}
    envelope["required"] = sorted({*envelope.get("required", []), "schema"})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Seawall result envelope v1",
        **schema,
    }


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
