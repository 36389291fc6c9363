"""Background jobs: what is queued, running, done or failed (and why), cancel and retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlalchemy import func, select

from seawall.center import audit
from seawall.center.api.deps import DB, Contributor, Id, Reader, center, now
from seawall.center.api.schemas import JobItem, JobState, ListOf
from seawall.center.jobs import queue
from seawall.center.security.roles import Principal
from seawall.center.store.models import JobRow, RegistryRow

router = APIRouter(tags=["jobs"])


def job_item(row: JobRow) -> JobItem:
    return JobItem.model_validate({f: getattr(row, f) for f in JobItem.model_fields})


def _registries_in_scope(session: DB, caller: Principal) -> list[int] | None:
    """The ids of the registries a scoped caller sees (None: everything)."""
    if caller.scope.everything:
        return None
    rows = session.execute(select(RegistryRow.id, RegistryRow.name))
    return [i for i, name in rows if caller.scope.permits({f"registry:{name}"})]


def _visible(session: DB, caller: Principal, job_id: int) -> JobRow:
    job = session.get(JobRow, job_id)
    allowed = _registries_in_scope(session, caller)
    if job is None or (allowed is not None and job.payload.get("registry") not in allowed):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such job")
    return job


@router.get("/jobs", response_model=ListOf[JobItem])
def list_jobs(
    session: DB,
    caller: Reader,
    state: Annotated[JobState | None, Query()] = None,
    kind: Annotated[str | None, Query(min_length=1, max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ListOf[JobItem]:
    """The newest jobs first (a scoped caller sees the jobs of its registries)."""
    statement = select(JobRow)
    if state:
        statement = statement.where(JobRow.state == state)
    if kind:
        statement = statement.where(JobRow.kind == kind)
    allowed = _registries_in_scope(session, caller)
    rows = [
        row
        for row in session.scalars(statement.order_by(JobRow.id.desc()).limit(limit))
        if allowed is None or row.payload.get("registry") in allowed
    ]
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    return ListOf[JobItem](items=[job_item(r) for r in rows], total=total, next=None)


@router.get("/jobs/{job_id}", response_model=JobItem)
def get_job(session: DB, caller: Reader, job_id: Id) -> JobItem:
    return job_item(_visible(session, caller, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=JobItem)
def cancel_job(session: DB, caller: Contributor, job_id: Id) -> JobItem:
    """Cancel a queued or running job (a running one stops at its next heartbeat and stores
    nothing); a finished job is returned as it is."""
    job = _visible(session, caller, job_id)
    queue.cancel(session, job.id, now(), caller.name)
    audit.record(session, caller, "job.cancel", str(job.id))
    return job_item(job)


@router.post("/jobs/{job_id}/retry", response_model=JobItem)
def retry_job(request: Request, session: DB, caller: Contributor, job_id: Id) -> JobItem:
    """Queue a failed or cancelled job again."""
    job = _visible(session, caller, job_id)
    queue.retry(session, job.id, now())
    audit.record(session, caller, "job.retry", str(job.id))
    worker = center(request).worker
    if worker is not None:
        worker.jobs_queued()
    return job_item(job)
