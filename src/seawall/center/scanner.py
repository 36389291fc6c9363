"""Image scanning for the center's jobs: inventory an image and match it with the advisory
database, as ``seawall image scan -f json`` would, into a result envelope.

One scanner per center (or worker process), owning one :class:`InventoryReader` and so one
pool of layer-reading processes, started with ``forkserver`` (the center is threaded) and
closed with the center. The advisory database is opened per scan: ``seawall db update``
replaces the file, and the next scan sees the new one.
"""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seawall.contract import Envelope
    from seawall.inventory.scan import InventoryOptions


class ImageScanner:
    def __init__(self, advisory_db: Path, workers: int = 2) -> None:
        from seawall.inventory.scan import InventoryReader

        self.advisory_db = advisory_db
        self._reader = InventoryReader(workers, multiprocessing.get_context("forkserver"))

    def scan(self, target: str, options: InventoryOptions) -> Envelope:
        """The scan envelope of ``target``; an inventory envelope when there is no advisory
        database yet (the center matches it when one arrives)."""
        from seawall.report.envelope.image import inventory_envelope, scan_envelope
        from seawall.vulndb.scan import ScanOptions, scan_inventory
        from seawall.vulndb.store import AdvisoryStore

        inventory = self._reader.read(target, options)
        if not self.advisory_db.is_file():
            return inventory_envelope(inventory)
        store = AdvisoryStore.open(self.advisory_db)
        try:
            report = scan_inventory(inventory, store, ScanOptions(), store.describe())
        finally:
            store.close()
        return scan_envelope(report)

    def close(self) -> None:
        self._reader.close()


class LazyScanner:
    """The center's scanner, started at the first scan (most centers never scan an image
    themselves: uploads arrive already scanned)."""

    def __init__(self, advisory_db: Path, workers: int = 2) -> None:
        self._advisory_db = advisory_db
        self._workers = workers
        self._lock = threading.Lock()
        self._scanner: ImageScanner | None = None

    def get(self) -> ImageScanner:
        with self._lock:
            if self._scanner is None:
                self._scanner = ImageScanner(self._advisory_db, self._workers)
            return self._scanner

    def close(self) -> None:
        with self._lock:
            if self._scanner is not None:
                self._scanner.close()
                self._scanner = None
