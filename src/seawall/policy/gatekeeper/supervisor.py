"""Supervised template evaluation: Rego and CEL run in a small pool of worker processes, each
evaluation within a time and memory budget.

A template is code from whoever wrote the policy. Evaluated in the calling process, one that
allocates without bound makes regorus abort the whole process (a Rust allocation failure is
not an exception), and one that loops keeps a thread busy long after the admission timeout
gave up on it. In a worker (:mod:`seawall.policy.gatekeeper.worker`) a runaway only costs
that worker: an evaluation past its deadline is killed, an allocation past the memory cap
ends the worker, and either becomes a :class:`BudgetExceeded` for that one policy, which
the caller reports like any policy error (the webhook applies its failure policy). The
killed worker is replaced on the next checkout.

Workers are started by a fork server that has the template engines loaded already (a new
worker is ready in milliseconds), stay warm between evaluations and compile each template
once. Evaluations travel in batches (every constraint that applies to an object, in one
round trip), and each answer comes back as soon as it is ready, so that every evaluation
has its own deadline and a runaway is attributed to its policy.
"""

from __future__ import annotations

import atexit
import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from seawall.policy.gatekeeper import worker
from seawall.policy.gatekeeper.budget import Budget, BudgetExceeded
from seawall.policy.gatekeeper.template import ConstraintTemplate

Violations = list[dict[str, Any]]
Outcome = Violations | Exception  # the violations, or why there are none to tell
_CONTEXT: Any = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([worker.__name__])


@dataclass(frozen=True, slots=True)
class Job:
    """One evaluation: ``template``'s ``engine`` on ``evaluation_input``, for ``policy``."""

    template: ConstraintTemplate
    engine: str
    evaluation_input: tuple[Any, ...]
    policy: str  # the rule id errors name


class _Worker:
    """A worker process, the parent's end of its pipe, and the templates it has compiled."""

    def __init__(self, memory_mb: int) -> None:
        self.connection, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(
            target=worker.serve, args=(child, memory_mb), name="seawall-policy", daemon=True
        )
        self.process.start()
        child.close()
        self.loaded: set[int] = set()

    def send(self, templates: Iterable[ConstraintTemplate], jobs: Sequence[Job]) -> None:
        """Send ``jobs``, after the ``templates`` this worker has not compiled yet."""
        loads = {t.key: (t.key, t.raw, t.where) for t in templates if t.key not in self.loaded}
        self.connection.send(
            (list(loads.values()), [(j.template.key, j.engine, j.evaluation_input) for j in jobs])
        )
        self.loaded.update(loads)

    def exit_code(self) -> int | None:
        self.process.join(1)
        return self.process.exitcode  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.connection.close()


class Supervisor:
    """At most ``budget.workers`` workers; :meth:`run` evaluates jobs on one of them."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self._slots = threading.BoundedSemaphore(budget.workers)
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()  # the warmest first

    def warm(self, templates: Iterable[ConstraintTemplate]) -> None:
        """Start every worker now and have it compile ``templates`` (a server does this
        before taking requests, so that the first ones pay no start-up). Without templates
        there is nothing to evaluate, and no worker is started."""
        checks = _checks(templates)
        while checks and self._idle.qsize() < self.budget.workers:
            fresh = _Worker(self.budget.memory_mb)
            if not self._run_on(fresh, checks, None, []):
                fresh.stop()  # a template that cannot compile: its evaluations will say so
                return
            self._idle.put(fresh)

    def check(self, templates: Iterable[ConstraintTemplate]) -> list[str]:
        """Why each of ``templates`` that does not compile within the budget does not."""
        checks = _checks(templates)
        return [
            f"{job.template.where}: {outcome}"
            for job, outcome in zip(checks, self.run(checks), strict=True)
            if isinstance(outcome, Exception)
        ]

    def run(self, jobs: Sequence[Job], deadline: float | None = None) -> list[Outcome]:
        """The outcome of each job, in order. ``deadline`` (``time.monotonic()``) bounds
        the whole batch besides each evaluation's own budget."""
        outcomes: list[Outcome] = []
        while len(outcomes) < len(jobs):
            rest = jobs[len(outcomes) :]
            if not self._slots.acquire(timeout=_remaining(deadline)):
                reason = "no evaluation worker was free before the deadline"
                outcomes.extend(BudgetExceeded(job.policy, "time", reason) for job in rest)
                break
            try:
                chosen = self._checkout()
            except OSError as exc:  # no process could be started (limits, resources)
                self._slots.release()
                failure = f"cannot start a policy evaluation worker: {exc}"
                outcomes.extend(RuntimeError(failure) for _ in rest)
                break
            healthy = False
            try:
                healthy = self._run_on(chosen, rest, deadline, outcomes)
            finally:
                if healthy:
                    self._idle.put(chosen)
                else:
                    chosen.stop()
                self._slots.release()
        return outcomes

    def _checkout(self) -> _Worker:
        while True:
            try:
                idle = self._idle.get_nowait()
            except queue.Empty:
                return _Worker(self.budget.memory_mb)
            if idle.process.is_alive():
                return idle
            idle.stop()

    def _run_on(
        self, chosen: _Worker, jobs: Sequence[Job], deadline: float | None, outcomes: list[Outcome]
    ) -> bool:
        """Run ``jobs`` on ``chosen``, appending each outcome; False once the worker is lost
        (the job it was on has its outcome, the rest have none yet)."""
        try:
            chosen.send((job.template for job in jobs), jobs)
        except OSError:  # the worker died while idle
            outcomes.append(self._lost(chosen, jobs[0]))
            return False
        for job in jobs:
            timeout = self.budget.timeout
            limit = f"{timeout:g}s"
            left = _remaining(deadline)
            if left is not None and left < timeout:
                timeout, limit = left, "the request's deadline"
            if not (timeout > 0 and chosen.connection.poll(timeout)):
                outcomes.append(BudgetExceeded(job.policy, "time", limit))
                return False
            try:
                status, value = chosen.connection.recv()
            except (EOFError, OSError):
                outcomes.append(self._lost(chosen, job))
                return False
            if status == "memory":
                outcomes.append(self._memory(job))
                return False
            outcomes.append(value if status == "ok" else RuntimeError(value))
        return True

    def _memory(self, job: Job) -> BudgetExceeded:
        return BudgetExceeded(job.policy, "memory", f"{self.budget.memory_mb} MB")

    def _lost(self, chosen: _Worker, job: Job) -> Exception:
        """Why ``chosen`` died on ``job``: regorus aborts when an allocation fails."""
        code = chosen.exit_code()
        if code == -signal.SIGABRT:
            return self._memory(job)
        return RuntimeError(f"policy {job.policy} crashed its evaluation worker (exit {code})")

    def stop(self) -> None:
        """Stop the idle workers (busy ones stop when their caller gives them back)."""
        while True:
            try:
                self._idle.get_nowait().stop()
            except queue.Empty:
                return


def _checks(templates: Iterable[ConstraintTemplate]) -> list[Job]:
    """Jobs that only compile ``templates``."""
    return [Job(t, worker.CHECK, (), f"template {t.name}") for t in templates]


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


_SUPERVISORS: dict[Budget, Supervisor] = {}
_LOCK = threading.Lock()


def supervisor_for(budget: Budget) -> Supervisor:
    """The process's supervisor for ``budget`` (one pool of workers per budget)."""
    with _LOCK:
        if budget not in _SUPERVISORS:
            _SUPERVISORS[budget] = Supervisor(budget)
        return _SUPERVISORS[budget]


@atexit.register
def _stop_all() -> None:
    for supervisor in _SUPERVISORS.values():
        supervisor.stop()
