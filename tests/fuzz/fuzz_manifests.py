"""Fuzz target: Kubernetes manifests (``seawall.policy.manifests.parse_manifests``), YAML or
JSON, what ``k8s scan`` reads from files and stdin. Anything but an InputError is a bug."""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from seawall.errors import InputError
    from seawall.policy.manifests import parse_manifests


def TestOneInput(data: bytes) -> None:
    with contextlib.suppress(InputError):
        parse_manifests(data, "fuzz")


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
