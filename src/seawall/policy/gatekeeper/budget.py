"""The work budget of one template evaluation: wall-clock time and memory, and how many
worker processes evaluate templates (``seawall.policy.gatekeeper.supervisor``).

Read from the environment so that every command (``k8s scan``, ``policy verify``,
``admission serve``) shares them:

- ``SEAWALL_POLICY_TIMEOUT``: seconds one template may take on one object (default 10);
- ``SEAWALL_POLICY_MEMORY_MB``: memory a worker may allocate beyond what it holds once its
  libraries are loaded (default 1024);
- ``SEAWALL_POLICY_WORKERS``: worker processes (default 2).

The defaults are far above what a real policy needs (the Gatekeeper library's templates take
well under a millisecond and a few megabytes); they only stop a runaway.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from seawall.errors import InputError

TIMEOUT_VARIABLE = "SEAWALL_POLICY_TIMEOUT"
MEMORY_VARIABLE = "SEAWALL_POLICY_MEMORY_MB"
WORKERS_VARIABLE = "SEAWALL_POLICY_WORKERS"


class BudgetExceeded(RuntimeError):
    """A policy ran out of time or memory (its worker was stopped), or its worker crashed."""

    def __init__(self, policy: str, resource: str, limit: str) -> None:
        super().__init__(f"policy {policy} exceeded its budget ({resource}: {limit})")
        self.policy = policy
        self.resource = resource


@dataclass(frozen=True, slots=True)
class Budget:
    timeout: float = 10.0  # seconds per evaluation
    memory_mb: int = 1024  # per worker, beyond its loaded libraries
    workers: int = 2

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise InputError(f"{TIMEOUT_VARIABLE} must be a positive number of seconds")
        if self.memory_mb < 16:
            raise InputError(f"{MEMORY_VARIABLE} must be at least 16 (megabytes)")
        if not 1 <= self.workers <= 64:
            raise InputError(f"{WORKERS_VARIABLE} must be between 1 and 64")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Budget:
        """The budget the environment sets (the defaults for what it does not)."""
        default = cls()
        return cls(
            timeout=_number(environ, TIMEOUT_VARIABLE, float, default.timeout),
            memory_mb=_number(environ, MEMORY_VARIABLE, int, default.memory_mb),
            workers=_number(environ, WORKERS_VARIABLE, int, default.workers),
        )


_Number = TypeVar("_Number", int, float)


def _number(
    environ: Mapping[str, str], name: str, kind: type[_Number], default: _Number
) -> _Number:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        return kind(text)
    except ValueError:
        raise InputError(f"{name}={text[:40]!r} is not a number") from None
