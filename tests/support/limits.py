"""Running a Seawall command as a user would, but inside limits: an address-space cap
(``resource.setrlimit`` in the child) and a wall-clock timeout, so a hostile input that
would blow up memory or hang shows as a failed assertion instead of taking the test run
down."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

MEMORY_MB = 1024  # the interpreter and the engines need ~150 MB; hostile inputs far more


def _limit(memory_mb: int) -> Callable[[], None]:
    def apply() -> None:
        size = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return apply


def run_limited(
    *args: str,
    memory_mb: int = MEMORY_MB,
    timeout: float = 120,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``seawall ARGS`` with at most ``memory_mb`` of address space and ``timeout`` seconds
    (TimeoutExpired when it hangs), in ``cwd`` if given (Seawall's source stays importable
    from anywhere)."""
    source = str(Path(__file__).resolve().parents[2] / "src")
    path = os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "seawall", *args],
        capture_output=True,
        input=stdin.decode("utf-8", "surrogateescape") if stdin is not None else None,
        text=True,
        timeout=timeout,
        preexec_fn=_limit(memory_mb),
        env={**os.environ, "PYTHONPATH": path, **(env or {})},
        cwd=cwd,
    )


def assert_one_line_refusal(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit 2, one line on stderr starting ``error:``, naming what ``needles`` say, and no
    traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
