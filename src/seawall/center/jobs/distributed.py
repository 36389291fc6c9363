"""Jobs across machines: Celery over RabbitMQ carries job ids from the center to
``seawall worker`` processes; the job table stays the truth about each job.

Why Celery (docs/architecture.md says more): BSD-licensed down to its broker client
(Dramatiq and procrastinate's psycopg are LGPL), message priorities on RabbitMQ, late
acknowledgement with redelivery when a worker dies, and it needs nothing the machines here
lack. What it does not give, the job table does: states anyone can query, back-off that
survives restarts, cancel, and the lease that hands the job of a dead worker to another.

The center's dispatcher publishes each due job once (``dispatched_at``) with a priority
from its urgency, and scheduled jobs only while fewer than the scheduled cap run. A worker
receiving a job id claims it in the table first; a message for a job that is no longer
queued (cancelled, already taken, redelivered after a crash) is acknowledged and dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from seawall.center.jobs import queue
from seawall.center.jobs.execution import Handler, execute
from seawall.center.runtime import Center
from seawall.center.store.models import JobRow

log = logging.getLogger(__name__)
TASK = "seawall.run_job"
QUEUE = "seawall-jobs"
MAX_PRIORITY = 9
REDISPATCH_AFTER = dt.timedelta(minutes=10)  # a message lost with a broker restart


def celery_app(broker_url: str) -> Any:
    """A Celery application for Seawall's jobs: late acknowledgement (a job whose worker dies
    is delivered again), one message prefetched per process (a long scan does not hold
    others back), a priority queue on RabbitMQ, no result backend (results are in the job
    table)."""
    from celery import Celery
    from kombu.entity import Queue

    app = Celery("seawall", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_queues=[Queue(QUEUE, queue_arguments={"x-max-priority": MAX_PRIORITY + 1})],  # type: ignore[no-untyped-call]
        task_default_queue=QUEUE,
        task_default_priority=5,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=True,
    )
    return app


def message_priority(urgency: int) -> int:
    """The job's urgency (lower first) as a RabbitMQ priority (higher first)."""
    if urgency >= queue.SCHEDULED:
        return 1
    return max(MAX_PRIORITY - urgency // 10, 2)


class Dispatcher:
    """Publishes due jobs to the broker from the center's upkeep thread."""

    def __init__(self, center: Center, policy: queue.QueuePolicy) -> None:
        self.center = center
        self.policy = policy
        self.app = celery_app(center.config.broker_url)

    def dispatch(self, now: dt.datetime) -> int:
        """Publish every due job not published yet (or whose message was lost); how many."""
        published = 0
        with self.center.sessions() as session, session.begin():
            stale = now - REDISPATCH_AFTER
            due = list(
                session.scalars(
                    select(JobRow)
                    .where(JobRow.state == "queued", JobRow.not_before <= now)
                    .where((JobRow.dispatched_at.is_(None)) | (JobRow.dispatched_at < stale))
                    .order_by(JobRow.priority, JobRow.id)
                    .limit(500)
                )
            )
            scheduled_busy = (
                session.scalar(
                    select(func.count())
                    .select_from(JobRow)
                    .where(JobRow.priority >= queue.SCHEDULED)
                    .where(
                        (JobRow.state == "running")
                        | ((JobRow.state == "queued") & JobRow.dispatched_at.is_not(None))
                    )
                )
                or 0
            )
            for job in due:
                if job.priority >= queue.SCHEDULED:
                    if scheduled_busy >= self.policy.scheduled_cap:
                        continue
                    scheduled_busy += 1
                self.app.send_task(
                    TASK, args=[job.id], queue=QUEUE, priority=message_priority(job.priority)
                )
                job.dispatched_at = now
                published += 1
        return published

    def close(self) -> None:
        self.app.close()


def worker_app(
    center: Center, handlers: Mapping[str, Handler], policy: queue.QueuePolicy, name: str
) -> Any:
    """The Celery application of a ``seawall worker`` process, its one task bound to
    ``center`` (no module global: the task is defined here, around it)."""
    app = celery_app(center.config.broker_url)

    @app.task(name=TASK, bind=True)  # type: ignore[untyped-decorator]
    def run_job(task: Any, job_id: int) -> str:
        worker = f"{name}:{task.request.hostname}"
        outcome = execute(center, int(job_id), worker, handlers, policy)
        log.info("job %s: %s", job_id, outcome or "not claimed")
        return outcome

    return app
