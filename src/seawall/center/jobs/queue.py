"""The job table as a queue: enqueue, claim with a lease, finish, fail with back-off, cancel,
and take back the jobs of workers that died.

Every transition is one conditional ``UPDATE`` (``WHERE state = ... AND worker = ...``), so
it works the same on SQLite and PostgreSQL, with any number of workers and center
processes, and a transition that lost a race changes nothing. Interactive work (manual,
push) has a lower priority number than scheduled work, which also has its own cap on how
many of its jobs run at once, so a scheduled "rescan everything" never holds up a push.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from seawall.center.store.models import JobRow

MANUAL = 0  # a user asked for it
PUSH = 10  # a registry said an image arrived
REMATCH = 30  # stored inventories and a new advisory database (no registry involved)
SCHEDULED = 50  # rescans, catalog listings: everything at or above this is "scheduled"

ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")
STATES = ACTIVE + FINISHED


@dataclass(frozen=True)
class QueuePolicy:
    """How long a claim lasts without a heartbeat, how retries back off, and how many
    scheduled jobs may run at once."""

    lease_seconds: float = 60.0
    first_retry_seconds: float = 5.0
    max_retry_seconds: float = 900.0
    scheduled_cap: int = 1

    def backoff(self, attempts: int) -> dt.timedelta:
        """5 s, 20 s, 80 s, ... (times four), at most ``max_retry_seconds``."""
        seconds = self.first_retry_seconds * 4 ** max(attempts - 1, 0)
        return dt.timedelta(seconds=min(seconds, self.max_retry_seconds))


def enqueue(
    session: Session,
    *,
    kind: str,
    key: str,
    payload: dict[str, Any],
    priority: int,
    now: dt.datetime,
    title: str = "",
    requested_by: str = "",
    max_attempts: int = 4,
) -> tuple[JobRow, bool]:
    """The active job for ``key``, created if there is none: ``(job, created)``. A job
    already queued with a lower priority is raised to this one (a manual scan of an image
    waiting for its scheduled rescan goes first)."""
    existing = _active(session, key)
    if existing is None:
        job = JobRow(
            kind=kind,
            key=key[:400],
            title=title[:500],
            payload=payload,
            priority=priority,
            state="queued",
            max_attempts=max_attempts,
            not_before=now,
            created_at=now,
            requested_by=requested_by,
        )
        try:
            with session.begin_nested():
                session.add(job)
            return job, True
        except IntegrityError:  # another process queued the same key just now
            existing = _active(session, key)
            if existing is None:
                raise
    if existing.state == "queued" and priority < existing.priority:
        existing.priority = priority
        existing.not_before = min(existing.not_before, now)
    return existing, False


def _active(session: Session, key: str) -> JobRow | None:
    return session.scalars(
        select(JobRow).where(JobRow.key == key[:400], JobRow.state.in_(ACTIVE))
    ).first()


def next_due(session: Session, now: dt.datetime, policy: QueuePolicy) -> int | None:
    """The id of the job to run next: the most urgent queued job that is due; a scheduled
    one only while fewer than ``policy.scheduled_cap`` scheduled jobs run."""
    due = (
        select(JobRow.id)
        .where(JobRow.state == "queued", JobRow.not_before <= now)
        .order_by(JobRow.priority, JobRow.id)
        .limit(1)
    )
    urgent = session.scalar(due.where(JobRow.priority < SCHEDULED))
    if urgent is not None:
        return urgent
    running = session.scalar(
        select(func.count())
        .select_from(JobRow)
        .where(JobRow.state == "running", JobRow.priority >= SCHEDULED)
    )
    if (running or 0) >= policy.scheduled_cap:
        return None
    return session.scalar(due)


def claim(
    session: Session, job_id: int, worker: str, now: dt.datetime, policy: QueuePolicy
) -> bool:
    """Take the queued job ``job_id`` for ``worker``; False if someone else was faster or
    it is no longer queued."""
    taken = session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.state == "queued")
        .values(
            state="running",
            worker=worker[:200],
            attempts=JobRow.attempts + 1,
            started_at=now,
            lease_until=now + dt.timedelta(seconds=policy.lease_seconds),
            error="",
        )
    )
    return _changed(taken)


def heartbeat(
    session: Session, job_id: int, worker: str, now: dt.datetime, policy: QueuePolicy
) -> bool:
    """Extend ``worker``'s lease; False when the job is no longer its own (cancelled, or
    taken back after the lease ran out): the worker stops and writes nothing."""
    extended = session.execute(
        update(JobRow)
        .where(*_owned(job_id, worker))
        .values(lease_until=now + dt.timedelta(seconds=policy.lease_seconds))
    )
    return _changed(extended)


def finish(
    session: Session, job_id: int, worker: str, now: dt.datetime, result: dict[str, Any]
) -> bool:
    """Mark the job done. Call it in the transaction that stores the job's result: when it
    returns False the job is not ``worker``'s any more and the transaction must be rolled
    back, so a result is stored once however many workers ran the job."""
    done = session.execute(
        update(JobRow)
        .where(*_owned(job_id, worker))
        .values(state="done", finished_at=now, lease_until=None, result=result)
    )
    return _changed(done)


def fail(
    session: Session,
    job_id: int,
    worker: str,
    now: dt.datetime,
    reason: str,
    policy: QueuePolicy,
    *,
    retryable: bool = True,
) -> str:
    """Record a failed attempt: queued again after a back-off while attempts remain and the
    failure may pass (a registry that is down), else failed with the reason. The new state,
    or "" when the job was not ``worker``'s."""
    job = session.get(JobRow, job_id, with_for_update=True)
    if job is None or job.state != "running" or job.worker != worker[:200]:
        return ""
    job.error = reason[:4000]
    job.lease_until = None
    if retryable and job.attempts < job.max_attempts:
        job.state = "queued"
        job.not_before = now + policy.backoff(job.attempts)
        job.dispatched_at = None
    else:
        job.state = "failed"
        job.finished_at = now
    return job.state


def cancel(session: Session, job_id: int, now: dt.datetime, by: str) -> JobRow | None:
    """Cancel a queued or running job (a running one stops at its next heartbeat and
    stores nothing). The job, or None if there is no such job."""
    job = session.get(JobRow, job_id, with_for_update=True)
    if job is None:
        return None
    if job.state in ACTIVE:
        job.state = "cancelled"
        job.finished_at = now
        job.lease_until = None
        job.error = f"cancelled by {by}"[:4000]
    return job


def retry(session: Session, job_id: int, now: dt.datetime) -> JobRow | None:
    """Queue a failed or cancelled job again, with a fresh count of attempts."""
    job = session.get(JobRow, job_id, with_for_update=True)
    if job is None:
        return None
    if job.state in ("failed", "cancelled") and _active(session, job.key) is None:
        job.state = "queued"
        job.attempts = 0
        job.not_before = now
        job.finished_at = None
        job.dispatched_at = None
        job.error = ""
    return job


def recover(session: Session, now: dt.datetime, policy: QueuePolicy) -> int:
    """Take back running jobs whose lease ran out (their worker died or hangs): queued
    again while attempts remain, else failed. How many were taken back."""
    lost = list(
        session.scalars(select(JobRow).where(JobRow.state == "running", JobRow.lease_until < now))
    )
    for job in lost:
        job.error = f"worker {job.worker} stopped answering"[:4000]
        job.lease_until = None
        job.dispatched_at = None
        if job.attempts < job.max_attempts:
            job.state = "queued"
            job.not_before = now
        else:
            job.state = "failed"
            job.finished_at = now
    return len(lost)


def _owned(job_id: int, worker: str) -> tuple[Any, ...]:
    return (JobRow.id == job_id, JobRow.state == "running", JobRow.worker == worker[:200])


def _changed(result: Any) -> bool:
    return bool(getattr(result, "rowcount", 0) == 1)
