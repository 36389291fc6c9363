"""Fuzz target: the documents that suppress findings, a VEX document (OpenVEX or CycloneDX,
``parse_vex``) and an ignore file (YAML, ``parse_ignore_file``). Anything but an InputError
is a bug."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys

import atheris

with atheris.instrument_imports():
    from seawall.errors import InputError
    from seawall.vulndb.suppress import parse_ignore_file, parse_vex

TODAY = dt.date(2026, 1, 1)


def TestOneInput(data: bytes) -> None:
    with contextlib.suppress(InputError):
        parse_vex(data, "fuzz.json")
    with contextlib.suppress(InputError):
        parse_ignore_file(data, "fuzz.yaml", TODAY)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
