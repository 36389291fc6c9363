"""A short run of every fuzz target: no crash, no hang, no memory blow-up in a few thousand
generated inputs (longer runs: docs/fuzzing.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fuzzing import run_target, targets


@pytest.mark.parametrize("target", targets(), ids=lambda p: p.stem)
def test_target_survives_a_short_run(target: Path, tmp_path: Path) -> None:
    result = run_target(target, tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Done" in result.stderr, result.stderr[-2000:]
