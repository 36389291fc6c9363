"""Fuzz target: the safe YAML loader (``seawall.safety.yaml.load_yaml``) every YAML input
goes through. Anything but a YamlError is a bug."""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from seawall.safety.yaml import YamlError, load_yaml


def TestOneInput(data: bytes) -> None:
    with contextlib.suppress(YamlError):
        load_yaml(data, max_nodes=100_000)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
