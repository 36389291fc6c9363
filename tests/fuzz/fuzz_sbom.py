"""Fuzz target: an SBOM read back for ``sbom match`` (``seawall.vulndb.sbomfile``: CycloneDX
JSON, SPDX JSON or Seawall's own). Anything but an InputError is a bug."""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from seawall.errors import InputError
    from seawall.vulndb.sbomfile import parse_inventory


def TestOneInput(data: bytes) -> None:
    with contextlib.suppress(InputError):
        parse_inventory(data, "fuzz.json")


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
