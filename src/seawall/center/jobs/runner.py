"""Background work of the embedded center, on threads of the server process.

- Jobs: ``config.job_threads`` threads claim due jobs from the job table (image scans
  queued by registry pushes, manual scans) and run them (:mod:`.execution`); with a broker
  configured, ``seawall worker`` processes run them instead and these threads stay idle.
- Matching: stored inventories not yet matched with the current advisory database (an
  uploaded SBOM, or every image after ``seawall db update`` changed the database) are queued
  as ``match_images`` jobs (:mod:`.matching`); nothing is pulled from a registry.
- Upkeep: jobs whose worker died are taken back; daily, expired exceptions are lifted, the
  secure score of every scope in use is recorded for the trend, expired sessions forgotten.

Woken after an upload that needs matching or a job queued, else every
``match_interval_seconds``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from seawall.center.exceptions import expire
from seawall.center.jobs import queue
from seawall.center.jobs.execution import Handler, execute
from seawall.center.notifications import problems
from seawall.center.posture import score
from seawall.center.runtime import Center
from seawall.center.security.logins import forget_expired
from seawall.center.security.scope import EVERYTHING, Scope
from seawall.center.store.models import Token, User
from seawall.errors import SeawallError

if TYPE_CHECKING:
    from seawall.vulndb.store import AdvisoryStore

log = logging.getLogger(__name__)
IDLE_POLL_SECONDS = 1.0  # how often idle job threads look for due jobs (retries come due)
NOTIFY_POLL_SECONDS = 1.0  # how often the outbox is looked at
SCORE_DROP_POINTS = 1.0  # a daily score this many percentage points lower notifies


def policy_of(center: Center) -> queue.QueuePolicy:
    return queue.QueuePolicy(
        lease_seconds=center.config.lease_seconds, scheduled_cap=center.config.scheduled_cap
    )


class Worker:
    """The background threads of one center process (see the module docstring): started
    with the application, stopped with it; ``status()`` is what the status page shows."""

    def __init__(self, center: Center, handlers: Mapping[str, Handler] | None = None) -> None:
        from seawall.center.jobs.handlers import HANDLERS

        self.center = center
        self.handlers = HANDLERS if handlers is None else handlers
        self.policy = policy_of(center)
        self.name = f"center:{os.uname().nodename}:{os.getpid()}"
        self._wake = threading.Event()
        self._work = threading.Event()
        self._queued = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_daily = ""
        self.jobs_run = 0
        self.notifications_sent = 0
        self.last_error = ""
        self.database = ""  # built_at of the advisory database last used

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._run, name="seawall-upkeep", daemon=True),
            threading.Thread(target=self._keep_queue, name="seawall-queue", daemon=True),
            threading.Thread(target=self._notify, name="seawall-notify", daemon=True),
        ]
        if not self.center.config.broker_url:
            self._threads += [
                threading.Thread(
                    target=self._run_jobs, args=(n,), name=f"seawall-job-{n}", daemon=True
                )
                for n in range(self.center.config.job_threads)
            ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._work.set()
        self._queued.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def wake(self) -> None:
        self._wake.set()

    def jobs_queued(self) -> None:
        """A job was queued: an idle job thread (or the dispatcher) takes it now rather than
        at its next poll."""
        self._work.set()
        self._queued.set()

    def status(self) -> dict[str, Any]:
        return {
            "running": bool(self._threads) and self._threads[0].is_alive(),
            "jobs_run": self.jobs_run,
            "notifications_sent": self.notifications_sent,
            "last_error": self.last_error,
            "advisory_database": self.database,
        }

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # a bad day must not end the thread
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("background job failed")
            self._wait_for_work()

    def _wait_for_work(self) -> None:
        """Until woken, ``match_interval_seconds`` pass, or the advisory database file is
        replaced (``seawall db update`` renames a new file in: looked at every second, a
        stat, so an update reaches the stored images in seconds)."""
        deadline = time.monotonic() + self.center.config.match_interval_seconds
        seen = _identity(self.center.config.advisory_db)
        while not self._wake.is_set() and time.monotonic() < deadline:
            self._wake.wait(min(1.0, max(0.0, deadline - time.monotonic())))
            if _identity(self.center.config.advisory_db) != seen:
                break
        self._wake.clear()

    def _run_jobs(self, number: int) -> None:
        worker = f"{self.name}:{number}"
        while not self._stop.is_set():
            try:
                ran = self.run_one(worker)
            except Exception as exc:  # the database may be back at the next poll
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("job thread failed")
                ran = False
            if not ran:
                self._work.wait(IDLE_POLL_SECONDS)
                self._work.clear()

    def _keep_queue(self) -> None:
        """Every second (or when a job was queued): take back the jobs of dead workers and,
        with a broker, publish due jobs to it."""
        dispatcher = None
        if self.center.config.broker_url:
            from seawall.center.jobs.distributed import Dispatcher

            dispatcher = Dispatcher(self.center, self.policy)
        try:
            while not self._stop.is_set():
                try:
                    self.keep_queue(dispatcher)
                except Exception as exc:  # the database or broker may be back next time
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    log.warning("queue upkeep failed: %s", exc)
                self._queued.wait(IDLE_POLL_SECONDS)
                self._queued.clear()
        finally:
            if dispatcher is not None:
                dispatcher.close()

    def _notify(self) -> None:
        """Deliver the outbox every :data:`NOTIFY_POLL_SECONDS` (a channel that is slow
        holds up only this thread)."""
        from seawall.center.notifications.outbox import deliver_due

        while not self._stop.wait(NOTIFY_POLL_SECONDS):
            try:
                self.notifications_sent += deliver_due(self.center, self.name, _now())
            except Exception as exc:  # the database may be back next time
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("notification delivery failed: %s", exc)

    def keep_queue(self, dispatcher: Any = None) -> None:
        with self.center.sessions() as session, session.begin():
            recovered = queue.recover(session, _now(), self.policy)
        if recovered:
            log.warning("took back %d job(s) of workers that stopped answering", recovered)
            self._work.set()
        if dispatcher is not None:
            dispatcher.dispatch(_now())

    def run_one(self, worker: str) -> bool:
        """Run the most urgent due job, if any; True if one was claimed."""
        with self.center.sessions() as session:
            job_id = queue.next_due(session, _now(), self.policy)
        if job_id is None:
            return False
        outcome = execute(self.center, job_id, worker, self.handlers, self.policy)
        self.jobs_run += outcome != ""
        return True

    def tick(self) -> None:
        """One round: match what needs it, queue the rescans the policy asks for, the daily
        work once a day."""
        self.match_pending()
        self.queue_rescans()
        today = _now().date().isoformat()
        if today != self._last_daily:
            self.daily()
            self._last_daily = today

    def queue_rescans(self) -> int:
        """Scheduled scans of registry images read with older analyzers (rescan policy),
        and the catalog listings that are due."""
        from seawall.center.registries.catalog import queue_due_listings
        from seawall.center.registries.rescan import queue_rescans

        with self.center.sessions() as session, session.begin():
            queued = queue_rescans(session, _now(), self.center.code_fingerprint)
            queued += queue_due_listings(session, _now())
        if queued:
            self.jobs_queued()
        return queued

    def match_pending(self) -> int:
        """Queue the matching of every stored inventory the current advisory database has
        not seen (:mod:`.matching`); how many jobs were created."""
        from seawall.center.jobs.matching import queue_matching
        from seawall.vulndb.store import AdvisoryStore

        path = self.center.config.advisory_db
        if not path.is_file():
            return 0
        try:
            store = AdvisoryStore.open(path)
        except SeawallError as exc:
            self.last_error = str(exc)
            return 0
        try:
            self.database = store.describe().get("built_at", "")
            self._settle_update(store)
        except SeawallError as exc:
            self.last_error = str(exc)
            return 0
        finally:
            store.close()
        with self.center.sessions() as session, session.begin():
            created = queue_matching(session, self.database, _now())
        if created:
            self.jobs_queued()
        return created

    def _settle_update(self, store: AdvisoryStore) -> None:
        """The first time this database is seen: settle the inventories its changes did not
        touch (:mod:`.untouched`), before any of them is queued for matching."""
        from seawall.center.jobs.untouched import known, settle_untouched
        from seawall.vulndb.footprint import StoreState

        with self.center.sessions() as session:
            if known(session, self.database):
                return
        state = StoreState.of(store)  # seconds on a full database: outside the transaction
        with self.center.sessions() as session, session.begin():
            settle_untouched(session, store, state, _now())

    def daily(self) -> None:
        now = _now()
        with self.center.sessions() as session, session.begin():
            expire(session, now)
            forget_expired(session, now)
            scopes = {EVERYTHING}
            for model in (User, Token):
                for selectors in session.scalars(select(model.scope)):
                    scopes.add(Scope.of(selectors or []))
            for scope in scopes:
                today = score.compute(session, scope)
                before = score.history(session, scope, days=7)
                score.record(session, scope, today, now.date())
                earlier = [row for row in before if row.day < now.date().isoformat()]
                if earlier and earlier[-1].percent - today.percent >= SCORE_DROP_POINTS:
                    name = ", ".join(scope.as_list()) or "everything"
                    problems.score_dropped(session, name, earlier[-1].percent, today.percent, now)


def _identity(path: Path) -> tuple[int, int]:
    """Which file ``path`` is now (inode and modification time; (0, 0) when missing)."""
    try:
        status = path.stat()
    except OSError:
        return 0, 0
    return status.st_ino, status.st_mtime_ns


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
