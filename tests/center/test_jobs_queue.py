"""The job table as a queue, on SQLite and PostgreSQL: urgent before scheduled, the
scheduled cap, one active job per key, retries with back-off, failure with the reason, a
cancel that stops a running job before it stores anything, jobs of dead workers taken back,
and a result stored once when two workers ran the same job."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seawall.center.jobs import queue
from seawall.center.jobs.execution import JobContext, JobFailure, Store, execute
from seawall.center.runtime import Center as Runtime
from seawall.center.store.models import AuditEntry, JobRow
from tests.center.conftest import Center, both_backends

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
POLICY = queue.QueuePolicy(lease_seconds=0.6, first_retry_seconds=5, scheduled_cap=1)


def _runtime(center: Center) -> Runtime:
    runtime: Runtime = center.app.state.center
    return runtime


def _add(center: Center, key: str, priority: int, kind: str = "ok", **payload: Any) -> int:
    with _runtime(center).sessions() as session, session.begin():
        job, _ = queue.enqueue(session, kind=kind, key=key, payload=payload, priority=priority,
                               now=NOW)  # fmt: skip
        session.flush()
        return job.id


def _job(center: Center, job_id: int) -> JobRow:
    with _runtime(center).sessions() as session:
        job = session.get(JobRow, job_id)
        assert job is not None
        session.expunge(job)
        return job


def _noting(what: str) -> Store:
    def store(session: Session) -> dict[str, Any]:
        session.add(AuditEntry(at=NOW, actor="job", action=what, target="", detail={}))
        return {"noted": what}

    return store


def _stored(center: Center, what: str) -> int:
    with _runtime(center).sessions() as session:
        return session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == what)
        ) or 0  # fmt: skip


def ok(context: JobContext, payload: dict[str, Any]) -> Store:
    return _noting(payload.get("note", "ok"))


def flaky(context: JobContext, payload: dict[str, Any]) -> Store:
    raise JobFailure("registry answered HTTP 503", retryable=True)


def broken(context: JobContext, payload: dict[str, Any]) -> Store:
    raise JobFailure("no such image", retryable=False)


HANDLERS = {"ok": ok, "flaky": flaky, "broken": broken}


@both_backends
def test_urgent_jobs_go_first_and_scheduled_ones_are_capped(center: Center) -> None:
    scheduled = [_add(center, f"rescan-{n}", queue.SCHEDULED) for n in range(3)]
    push = _add(center, "push", queue.PUSH)
    manual = _add(center, "manual", queue.MANUAL)
    with _runtime(center).sessions() as session, session.begin():
        order = []
        for _ in range(4):
            job_id = queue.next_due(session, NOW, POLICY)
            if job_id is None:
                break
            assert queue.claim(session, job_id, "w", NOW, POLICY)
            order.append(job_id)
    # one scheduled job at a time: the second waits while the first runs
    assert order == [manual, push, scheduled[0]]


@both_backends
def test_one_active_job_per_key_and_a_manual_request_raises_its_priority(center: Center) -> None:
    first = _add(center, "scan:1:app@sha256:1", queue.SCHEDULED)
    again = _add(center, "scan:1:app@sha256:1", queue.MANUAL)
    assert again == first and _job(center, first).priority == queue.MANUAL
    assert execute(_runtime(center), first, "w", HANDLERS, POLICY) == "done"
    assert _add(center, "scan:1:app@sha256:1", queue.PUSH) != first  # finished: a new one


@both_backends
def test_retries_back_off_then_fail_with_the_reason(center: Center) -> None:
    job_id = _add(center, "flaky", queue.PUSH, kind="flaky")
    runtime = _runtime(center)
    assert execute(runtime, job_id, "w", HANDLERS, POLICY) == "queued"
    job = _job(center, job_id)
    assert job.error == "registry answered HTTP 503" and job.attempts == 1
    assert job.not_before > dt.datetime.now(dt.UTC)  # not due until the back-off passed
    with runtime.sessions() as session:
        assert queue.next_due(session, dt.datetime.now(dt.UTC), POLICY) is None
    for attempt in (2, 3, 4):
        with runtime.sessions() as session, session.begin():
            session.get(JobRow, job_id).not_before = NOW  # type: ignore[union-attr]
        expected = "queued" if attempt < 4 else "failed"
        assert execute(runtime, job_id, "w", HANDLERS, POLICY) == expected
    job = _job(center, job_id)
    assert (job.state, job.attempts, job.error) == ("failed", 4, "registry answered HTTP 503")
    assert POLICY.backoff(1) < POLICY.backoff(2) < POLICY.backoff(3)


@both_backends
def test_a_bad_image_fails_at_once_and_unknown_kinds_too(center: Center) -> None:
    broken_id = _add(center, "broken", queue.PUSH, kind="broken")
    unknown_id = _add(center, "unknown", queue.PUSH, kind="nonsense")
    assert execute(_runtime(center), broken_id, "w", HANDLERS, POLICY) == "failed"
    assert execute(_runtime(center), unknown_id, "w", HANDLERS, POLICY) == "failed"
    assert _job(center, broken_id).attempts == 1
    assert "no handler" in _job(center, unknown_id).error


@both_backends
def test_cancel_stops_a_running_job_before_it_stores_anything(center: Center) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(context: JobContext, payload: dict[str, Any]) -> Store:
        started.set()
        while not release.wait(0.05):
            context.check()  # raises once the lease's heartbeat sees the cancel
        return _noting("slow")

    job_id = _add(center, "slow", queue.PUSH, kind="slow")
    runtime = _runtime(center)
    outcome: list[str] = []
    thread = threading.Thread(
        target=lambda: outcome.append(execute(runtime, job_id, "w", {"slow": slow}, POLICY))
    )
    thread.start()
    assert started.wait(10)
    with runtime.sessions() as session, session.begin():
        queue.cancel(session, job_id, dt.datetime.now(dt.UTC), "alice")
    thread.join(10)
    release.set()
    assert outcome == [""]
    assert _job(center, job_id).state == "cancelled" and _stored(center, "slow") == 0
    # a queued job is cancelled before it ever runs
    queued = _add(center, "later", queue.SCHEDULED)
    with runtime.sessions() as session, session.begin():
        queue.cancel(session, queued, NOW, "alice")
    assert execute(runtime, queued, "w", HANDLERS, POLICY) == ""


@both_backends
def test_a_dead_workers_job_is_taken_back_and_its_result_stored_once(center: Center) -> None:
    runtime = _runtime(center)
    job_id = _add(center, "once", queue.PUSH, note="once")
    with runtime.sessions() as session, session.begin():
        assert queue.claim(session, job_id, "dead", NOW, POLICY)  # and never heard of again
    later = NOW + dt.timedelta(seconds=5)
    with runtime.sessions() as session, session.begin():
        assert queue.recover(session, later, POLICY) == 1
    assert _job(center, job_id).state == "queued"
    assert execute(runtime, job_id, "alive", HANDLERS, POLICY) == "done"
    # the dead worker comes back and tries to finish: its write is refused
    with runtime.sessions() as session, session.begin():
        assert not queue.finish(session, job_id, "dead", later, {"late": True})
    job = _job(center, job_id)
    assert (job.state, job.worker, job.result) == ("done", "alive", {"noted": "once"})
    assert _stored(center, "once") == 1
