"""Every policy, k8s and admission command answers --help."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "command",
    [
        ["k8s"],
        ["k8s", "scan"],
        ["policy"],
        ["policy", "verify"],
        ["admission"],
        ["admission", "serve"],
        ["admission", "install"],
    ],
)
def test_help(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "seawall", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
