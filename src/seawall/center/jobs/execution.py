"""Running one claimed job: its handler does the slow part outside any transaction while a
lease keeps the claim alive, then stores its result in the transaction that marks the job
done. Used alike by the center's own threads and by ``seawall worker`` processes.

A handler is a function ``(context, payload) -> store``; ``store(session)`` writes the result
and returns a short summary kept on the job. Handlers raise :class:`JobFailure` for a
failure with a reason (retryable or not); anything else counts as retryable.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from seawall.center.jobs import queue
from seawall.center.runtime import Center
from seawall.center.store.models import JobRow
from seawall.errors import EnvironmentFailure, SeawallError

log = logging.getLogger(__name__)

Store = Callable[[Session], dict[str, Any]]


class JobFailure(Exception):
    """A job failed for a reason worth showing; ``retryable`` when trying later may help."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable


class Cancelled(Exception):
    """The job was cancelled, or taken back from this worker: stop, store nothing."""


@dataclass
class JobContext:
    """What a handler may use: the center, its job, and a way to notice cancellation."""

    center: Center
    job_id: int
    worker: str
    lost: threading.Event = field(default_factory=threading.Event)

    def check(self) -> None:
        """Raise :class:`Cancelled` once the job is no longer this worker's."""
        if self.lost.is_set():
            raise Cancelled


Handler = Callable[[JobContext, dict[str, Any]], Store]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Lease:
    """Extends the claim every third of the lease while the handler works; sets
    ``context.lost`` when the job was cancelled or taken back."""

    def __init__(self, context: JobContext, policy: queue.QueuePolicy) -> None:
        self.context = context
        self.policy = policy
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="seawall-lease", daemon=True)

    def __enter__(self) -> _Lease:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        center, ctx = self.context.center, self.context
        while not self._done.wait(self.policy.lease_seconds / 3):
            try:
                with center.sessions() as session, session.begin():
                    mine = queue.heartbeat(session, ctx.job_id, ctx.worker, now(), self.policy)
            except Exception as exc:  # the database may be back by the next beat
                log.warning("job %s: heartbeat failed: %s", ctx.job_id, exc)
                continue
            if not mine:
                ctx.lost.set()
                return


def execute(
    center: Center,
    job_id: int,
    worker: str,
    handlers: Mapping[str, Handler],
    policy: queue.QueuePolicy,
) -> str:
    """Claim ``job_id`` for ``worker`` and run it to its next state ("done", "queued" for a
    retry, "failed", or "" when it could not be claimed or was cancelled meanwhile)."""
    with center.sessions() as session, session.begin():
        if not queue.claim(session, job_id, worker, now(), policy):
            return ""
        job = session.get(JobRow, job_id)
        assert job is not None
        kind, payload = job.kind, dict(job.payload)
    context = JobContext(center=center, job_id=job_id, worker=worker)
    try:
        handler = handlers.get(kind)
        if handler is None:
            raise JobFailure(f"no handler for jobs of kind {kind!r}", retryable=False)
        with _Lease(context, policy):
            store = handler(context, payload)
            context.check()
        return _store(center, context, store)
    except Cancelled:
        log.info("job %s: cancelled while running; nothing stored", job_id)
        return ""
    except JobFailure as exc:
        return _fail(center, context, str(exc), policy, retryable=exc.retryable)
    except EnvironmentFailure as exc:  # a registry or the network: may pass
        return _fail(center, context, str(exc), policy, retryable=True)
    except SeawallError as exc:  # the image or its data is bad: trying again will not help
        return _fail(center, context, str(exc), policy, retryable=False)
    except Exception as exc:
        log.exception("job %s (%s) failed", job_id, kind)
        return _fail(center, context, f"{type(exc).__name__}: {exc}", policy, retryable=True)


def _store(center: Center, context: JobContext, store: Store) -> str:
    try:
        with center.sessions() as session, session.begin():
            result = store(session)
            if not queue.finish(session, context.job_id, context.worker, now(), result):
                raise Cancelled  # rolls the result back: the job is not ours any more
    except Cancelled:
        log.info("job %s: no longer ours when storing; result dropped", context.job_id)
        return ""
    return "done"


def _fail(
    center: Center,
    context: JobContext,
    reason: str,
    policy: queue.QueuePolicy,
    *,
    retryable: bool,
) -> str:
    from seawall.center.notifications import problems

    log.warning("job %s failed: %s", context.job_id, reason)
    with center.sessions() as session, session.begin():
        at = now()
        state = queue.fail(
            session, context.job_id, context.worker, at, reason, policy, retryable=retryable
        )
        job = session.get(JobRow, context.job_id)
        if state == "failed" and job is not None:
            problems.job_failed(session, job, at)
        return state
