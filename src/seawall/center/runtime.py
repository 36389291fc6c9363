"""What a running center holds: its configuration, database engine and session factory, the
image scanner of its jobs, and the background worker. One per application; nothing here is
a module global, so several centers (tests, workers) live side by side in one process."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from seawall.center.config import CenterConfig

if TYPE_CHECKING:
    from seawall.center.jobs.runner import Worker
    from seawall.center.jobs.untouched import AdvisoryChanges
    from seawall.center.scanner import ImageScanner, LazyScanner
    from seawall.center.security.vault import Vault


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

    @cached_property
    def vault(self) -> Vault:
        """The center's key for stored secrets, read (or created) once."""
        from seawall.center.security.vault import Vault

        return Vault.for_center(self.config.data_dir)

    @cached_property
    def advisory_changes(self) -> AdvisoryChanges:
        """The keys changed between advisory databases, for this center's match jobs."""
        from seawall.center.jobs.untouched import AdvisoryChanges

        return AdvisoryChanges()

    @cached_property
    def code_fingerprint(self) -> str:
        """The layer cache's fingerprint of the analyzers this process runs (the code does
        not change while it runs: read once, not at every scan)."""
        from seawall.inventory.cache import code_fingerprint

        return code_fingerprint()

    def close(self) -> None:
        self._scanner.close()
        self.engine.dispose()
