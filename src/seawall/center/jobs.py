"""Background work of the embedded center, on one thread of the server process.

- Matching: stored inventories not yet matched with the current advisory database (an
  uploaded SBOM, or every image after ``seawall db update`` changed the database) are matched
  and their results ingested like any scan; nothing is pulled from a registry. Each image
  is one transaction, so an interruption loses nothing and repeating one changes nothing.
- Daily: expired exceptions are lifted, the secure score of every scope in use is recorded
  for the trend, expired sessions are forgotten.

Woken after an upload that needs matching, else every ``match_interval_seconds``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from sqlalchemy import select

from seawall.center.exceptions import expire
from seawall.center.ingest import ingest, load_inventory
from seawall.center.posture import score
from seawall.center.runtime import Center
from seawall.center.security.logins import forget_expired
from seawall.center.security.roles import Principal, Role
from seawall.center.security.scope import EVERYTHING, Scope
from seawall.center.store.models import StoredInventory, Token, User
from seawall.errors import SeawallError

log = logging.getLogger(__name__)
SYSTEM = Principal(name="seawall:matcher", role=Role.OWNER, scope=EVERYTHING)
BATCH = 50


class Worker:
    def __init__(self, center: Center) -> None:
        self.center = center
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_daily = ""
        self.matched = 0
        self.failed = 0
        self.last_error = ""
        self.database = ""  # built_at of the advisory database last used

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="seawall-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def wake(self) -> None:
        self._wake.set()

    def status(self) -> dict[str, Any]:
        return {
            "running": self._thread is not None and self._thread.is_alive(),
            "matched": self.matched,
            "failed": self.failed,
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
            self._wake.wait(self.center.config.match_interval_seconds)
            self._wake.clear()

    def tick(self) -> None:
        """One round: match what needs it, then the daily work once a day."""
        self.match_pending()
        today = dt.datetime.now(dt.UTC).date().isoformat()
        if today != self._last_daily:
            self.daily()
            self._last_daily = today

    def match_pending(self) -> int:
        """Match every stored inventory the current advisory database has not seen."""
        from seawall.vulndb.store import AdvisoryStore

        path = self.center.config.advisory_db
        if not path.is_file():
            return 0
        try:
            store = AdvisoryStore.open(path)
        except SeawallError as exc:
            self.last_error = str(exc)
            return 0
        done = 0
        try:
            built_at = store.describe().get("built_at", "")
            self.database = built_at
            while not self._stop.is_set():
                with self.center.sessions() as session:
                    pending = list(
                        session.scalars(
                            select(StoredInventory.image_id)
                            .where(StoredInventory.matched_with != built_at)
                            .limit(BATCH)
                        )
                    )
                if not pending:
                    break
                for image_id in pending:
                    done += self._match_one(store, image_id, built_at)
        finally:
            store.close()
        return done

    def _match_one(self, store: Any, image_id: int, built_at: str) -> int:
        from seawall.report.envelope.image import scan_envelope
        from seawall.vulndb.scan import ScanOptions, scan_inventory

        with self.center.sessions() as session, session.begin():
            inventory = load_inventory(session, image_id)
            row = session.get(StoredInventory, image_id)
            if inventory is None or row is None:
                return 0
            try:
                with session.begin_nested():
                    report = scan_inventory(inventory, store, ScanOptions(), store.describe())
                    ingest(session, scan_envelope(report), SYSTEM, dt.datetime.now(dt.UTC))
            except Exception as exc:  # one bad inventory is reported and skipped
                self.failed += 1
                self.last_error = f"image {image_id}: {type(exc).__name__}: {exc}"
                log.warning("matching image %s failed: %s", image_id, exc)
            row.matched_with = built_at
        self.matched += 1
        return 1

    def daily(self) -> None:
        now = dt.datetime.now(dt.UTC)
        with self.center.sessions() as session, session.begin():
            expire(session, now)
            forget_expired(session, now)
            scopes = {EVERYTHING}
            for model in (User, Token):
                for selectors in session.scalars(select(model.scope)):
                    scopes.add(Scope.of(selectors or []))
            for scope in scopes:
                score.record(session, scope, score.compute(session, scope), now.date())
