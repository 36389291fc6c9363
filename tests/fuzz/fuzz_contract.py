"""Fuzz target: the result contract's decoder (``seawall.contract.decode``), which every
upload to the center goes through. Anything but a ContractError is a bug."""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from seawall.contract import ContractError, decode


def TestOneInput(data: bytes) -> None:
    with contextlib.suppress(ContractError):
        decode(data, "fuzz")


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
