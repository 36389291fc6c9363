"""The worker process that evaluates templates for the supervisor.

A worker caps its own address space (``RLIMIT_AS``: what it holds once its libraries are
loaded, plus the budget), sends its stdout and stderr to ``/dev/null`` (a Rust abort's
message must not reach a command's one-line error output), then serves batches from its
pipe until the pipe closes. A batch is ``(loads, jobs)``: templates as ``(key, raw,
where)``, then evaluations as ``(key, engine, evaluation_input)``, each answered as soon as
it is done with ``("ok", violations)``, ``("error", text)`` or ``("memory", "")`` (after
which the worker exits: the supervisor starts a fresh one). A template is compiled once, by
the first evaluation that needs it, so that a template whose compilation runs away is
charged to its own evaluation; the engine :data:`CHECK` only compiles.

What a worker cannot answer for itself, the supervisor sees from outside: an evaluation
that overruns its deadline is killed, and regorus aborts the whole process (SIGABRT) when an
allocation fails.
"""

from __future__ import annotations

import os
import resource
from multiprocessing.connection import Connection
from typing import Any

from seawall.policy.gatekeeper.cel import CelProgram
from seawall.policy.gatekeeper.rego import RegoProgram
from seawall.policy.gatekeeper.template import ConstraintTemplate

Programs = dict[str, RegoProgram | CelProgram]
CHECK = ""  # the engine of a job that only compiles its template


def _address_space() -> int:
    """Bytes of address space this process holds (regorus alone reserves about 1 GB)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _limit_memory(memory_mb: int) -> None:
    """Cap the address space at what is held now plus ``memory_mb`` (or at the cap the
    process inherited, if that is lower: a limit can only be lowered)."""
    limit = _address_space() + memory_mb * 1024 * 1024
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _silence() -> None:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)


def _compile(raw: Any, where: str) -> Programs | str:
    """The template's programs, or why they do not compile."""
    try:
        return ConstraintTemplate(raw, where).compile()
    except MemoryError:
        raise
    except Exception as exc:
        return str(exc)


def _evaluate(programs: Programs | str, engine: str, evaluation_input: Any) -> tuple[str, Any]:
    if isinstance(programs, str):
        return "error", programs
    if engine == CHECK:
        return "ok", []
    try:
        return "ok", programs[engine].violations(*evaluation_input)
    except MemoryError:
        raise
    except Exception as exc:  # the policy's own failure: reported, the worker carries on
        name = type(exc).__name__
        return "error", str(exc) if name == "RuntimeError" else f"{name}: {exc}"


def serve(connection: Connection, memory_mb: int) -> None:
    """The worker's main loop (the target of its process)."""
    _silence()
    _limit_memory(memory_mb)
    sources: dict[int, tuple[Any, str]] = {}  # key -> (raw, where)
    compiled: dict[int, Programs | str] = {}  # key -> programs, or why they do not compile
    while True:
        try:
            loads, jobs = connection.recv()
        except EOFError:  # the supervisor is gone
            return
        sources.update((key, (raw, where)) for key, raw, where in loads)
        for key, engine, evaluation_input in jobs:
            try:
                if key not in compiled:
                    compiled[key] = _compile(*sources.pop(key))
                status, value = _evaluate(compiled[key], engine, evaluation_input)
            except MemoryError:  # compiling or evaluating: the budget is spent either way
                status, value = "memory", ""
            connection.send((status, value))
            if status == "memory":
                return
