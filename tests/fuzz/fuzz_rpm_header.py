"""Fuzz target: the rpm header decoder (``seawall.inventory.analyzers._rpmheader``) every
rpm database backend hands its stored blobs to. Anything but a ValueError is a bug."""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from seawall.inventory.analyzers._rpmheader import parse_header, split_source_rpm


def TestOneInput(data: bytes) -> None:
    with contextlib.suppress(ValueError):
        header = parse_header(data)
        header.files()
        split_source_rpm(header.source_rpm)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
