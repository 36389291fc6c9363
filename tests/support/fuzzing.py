"""Short fuzzing runs of the targets in ``tests/fuzz/`` (atheris, libFuzzer's engine, over
Seawall's own parsers). Each target is a module with ``TestOneInput(data: bytes)`` that
raises only on a real bug (the parser's documented errors are caught inside), and the usual
``atheris.Setup(...); atheris.Fuzz()`` main. The test suite runs each for a few thousand
inputs, from a fixed seed and the target's regression corpus (``tests/fuzz/corpus/<name>/``:
inputs that once crashed it), so a run in CI is repeatable; ``docs/fuzzing.md`` says how to
run them for hours."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"


def targets() -> list[Path]:
    return sorted(FUZZ.glob("fuzz_*.py"))


def regression_corpus(target: Path) -> Path:
    """The directory of inputs that once crashed ``target`` (``fuzz_yaml.py`` -> ``yaml``)."""
    return FUZZ / "corpus" / target.stem.removeprefix("fuzz_")


def run_target(
    target: Path, work: Path, runs: int = 3000, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``target`` for ``runs`` inputs (each at most 4 KB, 10 s) in a subprocess, seeded
    with a copy of its regression corpus in ``work`` (libFuzzer adds to its corpus directory,
    and a crash leaves its input in ``work`` too, never in the checkout)."""
    corpus = work / "corpus"
    if regression_corpus(target).is_dir():
        shutil.copytree(regression_corpus(target), corpus)
    else:
        corpus.mkdir()
    return subprocess.run(
        [sys.executable, str(target), str(corpus), f"-runs={runs}", "-seed=1",
         "-max_len=4096", "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1",
         f"-artifact_prefix={work}/"],
        capture_output=True, text=True, timeout=timeout, cwd=work,
    )  # fmt: skip
