"""Short fuzzing runs of the targets in ``tests/fuzz/`` (atheris, libFuzzer's engine, over
Seawall's own parsers). Each target is a module with ``TestOneInput(data: bytes)`` that
raises only on a real bug (the parser's documented errors are caught inside), and the usual
``atheris.Setup(...); atheris.Fuzz()`` main. The test suite runs each for a few thousand
inputs; ``docs/fuzzing.md`` says how to run them for hours."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"


def targets() -> list[Path]:
    return sorted(FUZZ.glob("fuzz_*.py"))


def run_target(
    target: Path, runs: int = 3000, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``target`` for ``runs`` inputs (each input at most 4 KB, 10 s) in a subprocess."""
    return subprocess.run(
        [sys.executable, str(target), f"-runs={runs}", "-max_len=4096", "-timeout=10",
         "-rss_limit_mb=2048", "-print_final_stats=1"],
        capture_output=True, text=True, timeout=timeout,
        cwd=target.parent,
    )  # fmt: skip
