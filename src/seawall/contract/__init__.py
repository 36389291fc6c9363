"""Seawall's one result contract: the versioned envelope every engine writes with ``-f json``,
``--upload`` sends and the center ingests (see :mod:`seawall.contract.envelope`)."""

from seawall.contract.codec import ContractError, decode, encode, encode_pretty
from seawall.contract.envelope import SCHEMA_ID, Envelope, Kind

__all__ = ["SCHEMA_ID", "ContractError", "Envelope", "Kind", "decode", "encode", "encode_pretty"]
