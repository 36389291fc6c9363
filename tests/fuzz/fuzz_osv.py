"""Fuzz target: one OSV record as ``db import`` reads it (``seawall.vulndb.record.parse``,
JSON and YAML). Anything but a RecordError is a bug."""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from seawall.vulndb.osv import RecordError
    from seawall.vulndb.record import parse


def TestOneInput(data: bytes) -> None:
    for name in ("fuzz.json", "fuzz.yaml"):
        with contextlib.suppress(RecordError):
            parse(data, name)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
