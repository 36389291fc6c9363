"""What a running center holds: its configuration, database engine and session factory, the
image scanner of its jobs, and the background worker. One per application; nothing here is
a module global, so several centers (tests, workers) live side by side in one process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from seawall.center.config import CenterConfig

if TYPE_CHECKING:
    from seawall.center.jobs.runner import Worker
    from seawall.center.scanner import ImageScanner, LazyScanner


@dataclass
class Center:
    config: CenterConfig
    engine: Engine
    sessions: sessionmaker[Session]
    worker: Worker | None = None
    _scanner: LazyScanner = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from seawall.center.scanner import LazyScanner

        self._scanner = LazyScanner(self.config.advisory_db, self.config.scan_workers)

    def scanner(self) -> ImageScanner:
        """The image scanner, started on first use; :meth:`close` stops it."""
        return self._scanner.get()

    def close(self) -> None:
        self._scanner.close()
        self.engine.dispose()
