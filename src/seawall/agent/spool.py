"""The agent's spool: envelopes the center could not take yet, on disk, oldest first.

One file per envelope, its bytes exactly as they are posted: ``<ns>-<seq>-<sha256>.json``,
where ``ns`` is the time it was spooled in nanoseconds (20 digits, so names sort by time),
``seq`` breaks ties within one process and ``sha256`` is the digest of the body, which is
also the ``Idempotency-Key`` it is sent with. A file whose content does not hash to its
name (truncated by a crash, corrupted, replaced) is moved aside into ``rejected/`` and
reported, never sent. Writes are atomic: a temporary file (``.tmp-*``, mode 0600) written
and fsynced, then renamed into place; temporaries left by a crash are removed at start.

Bounded by bytes and by count: when a new envelope would pass either bound the oldest
envelopes are dropped (an envelope larger than the whole byte bound is itself dropped);
a write that fails (ENOSPC, EDQUOT, EIO, ...) drops that envelope. Every drop is counted,
logged and kept in ``agent.json`` beside the envelopes, so the count survives restarts and
goes to the center with the next host report. ``rejected/`` keeps the last
:data:`MAX_REJECTED` refused or corrupt files for a person to look at.

Thread-safe: every method takes the spool's lock.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import json
import logging
import os
import re
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("seawall.agent")

STATUS_FILE = "agent.json"
REJECTED_DIR = "rejected"
MAX_REJECTED = 100
_NAME = re.compile(r"^(\d{20})-(\d{6})-([0-9a-f]{64})\.json$")
_TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class Spooled:
    """One envelope waiting in the spool."""

    path: Path
    digest: str  # sha256 of the body, from the name
    size: int


class Spool:
    """The spool directory ``root``, bounded by ``max_bytes`` and ``max_files``."""

    def __init__(self, root: Path, max_bytes: int, max_files: int = 10_000) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.max_files = max_files
        self._lock = threading.RLock()
        self._seq = itertools.count()
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.root / REJECTED_DIR).mkdir(exist_ok=True, mode=0o700)
        self.status: dict[str, Any] = {"dropped": 0, "rejected": 0, "delivered": 0}
        self._load_status()
        self._entries: list[Spooled] = []
        self._scan()

    # -- the status file ---------------------------------------------------------------------

    def _load_status(self) -> None:
        path = self.root / STATUS_FILE
        try:
            with open(path, "rb") as file:  # small; a hostile one is just reset
                data = json.loads(file.read(1 << 16))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("spool status %s unreadable (%s): counts start at 0", path, exc)
            return
        if isinstance(data, dict):
            for key in ("dropped", "rejected", "delivered"):
                value = data.get(key)
                if isinstance(value, int) and value >= 0:
                    self.status[key] = value

    def save_status(self, **extra: Any) -> None:
        """Write ``agent.json`` (atomically; a full disk only costs this update)."""
        with self._lock:
            self.status.update(extra)
            self.status["pending"] = len(self._entries)
            self.status["pending_bytes"] = self.pending_bytes
            self.status["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            body = json.dumps(self.status, indent=2, sort_keys=True).encode() + b"\n"
            with contextlib.suppress(OSError):
                self._write_atomic(self.root / STATUS_FILE, body)

    @property
    def dropped(self) -> int:
        return int(self.status["dropped"])

    # -- reading the directory ---------------------------------------------------------------

    def _scan(self) -> None:
        """Index what earlier runs left: envelopes by name, temporaries removed, anything
        else that looks like ours but is not a regular file set aside."""
        entries: list[Spooled] = []
        for child in sorted(os.scandir(self.root), key=lambda e: e.name):
            if child.name.startswith(_TMP_PREFIX):
                with contextlib.suppress(OSError):
                    Path(child.path).unlink()
                continue
            match = _NAME.match(child.name)
            if match is None:
                continue  # agent.json, rejected/, anything a person put there
            info = child.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                self._set_aside(Path(child.path), "not a regular file")
                continue
            entries.append(Spooled(Path(child.path), match.group(3), info.st_size))
        self._entries = entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def pending_bytes(self) -> int:
        with self._lock:
            return sum(e.size for e in self._entries)

    def oldest(self) -> Spooled | None:
        with self._lock:
            return self._entries[0] if self._entries else None

    def read(self, entry: Spooled) -> bytes | None:
        """The body of ``entry``; None (and the file set aside, reported) when it is not
        what its name says: truncated, corrupted, no longer a regular file."""
        with self._lock:
            try:
                fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except FileNotFoundError:
                self._forget(entry)
                return None
            except OSError as exc:
                self._set_aside(entry.path, f"unreadable: {exc.strerror}", entry)
                return None
            with os.fdopen(fd, "rb") as file:
                info = os.fstat(file.fileno())
                if not stat.S_ISREG(info.st_mode):
                    body = None
                else:
                    body = file.read(max(self.max_bytes, entry.size) + 1)
            if body is None or hashlib.sha256(body).hexdigest() != entry.digest:
                reason = "not a regular file" if body is None else "content does not match its name"
                self._set_aside(entry.path, f"corrupt ({reason})", entry)
                return None
            return body

    # -- changes -------------------------------------------------------------------------------

    def put(self, body: bytes) -> bool:
        """Spool ``body``; False when it had to be dropped (counted and logged)."""
        with self._lock:
            size = len(body)
            if size > self.max_bytes:
                self._drop(1, f"an envelope of {size} bytes is larger than the spool")
                return False
            self._make_room(size)
            digest = hashlib.sha256(body).hexdigest()
            name = f"{time.time_ns():020d}-{next(self._seq) % 1_000_000:06d}-{digest}.json"
            path = self.root / name
            try:
                self._write_atomic(path, body)
            except OSError as exc:
                why = "disk full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror
                self._drop(1, f"cannot write to the spool: {why}")
                return False
            self._entries.append(Spooled(path, digest, size))
            self.save_status()
            return True

    def remove(self, entry: Spooled) -> None:
        """``entry`` was delivered."""
        with self._lock:
            with contextlib.suppress(FileNotFoundError):
                entry.path.unlink()
            self._forget(entry)
            self.status["delivered"] = int(self.status["delivered"]) + 1

    def reject(self, entry: Spooled, reason: str) -> None:
        """The center refused ``entry`` for good: set it aside, never resent."""
        with self._lock:
            self._set_aside(entry.path, reason, entry)

    def reject_body(self, body: bytes, reason: str) -> None:
        """A refused envelope that was never spooled: kept in ``rejected/`` too."""
        with self._lock:
            digest = hashlib.sha256(body).hexdigest()
            target = self.root / REJECTED_DIR / f"{time.time_ns():020d}-000000-{digest}.json"
            with contextlib.suppress(OSError):
                self._write_atomic(target, body)
            self._count_rejected(target, reason)

    def _forget(self, entry: Spooled) -> None:
        with contextlib.suppress(ValueError):
            self._entries.remove(entry)

    def _set_aside(self, path: Path, reason: str, entry: Spooled | None = None) -> None:
        target = self.root / REJECTED_DIR / path.name
        try:
            path.replace(target)
        except OSError:
            with contextlib.suppress(OSError):
                path.unlink()
        if entry is not None:
            self._forget(entry)
        self._count_rejected(target, reason)

    def _count_rejected(self, target: Path, reason: str) -> None:
        self.status["rejected"] = int(self.status["rejected"]) + 1
        log.error("spool: %s set aside in %s: %s", target.name, target.parent, reason)
        self._trim_rejected()
        self.save_status(last_rejected=reason)

    def _trim_rejected(self) -> None:
        folder = self.root / REJECTED_DIR
        try:
            names = sorted(p.name for p in folder.iterdir() if _NAME.match(p.name))
        except OSError:
            return
        for name in names[: max(0, len(names) - MAX_REJECTED)]:
            with contextlib.suppress(OSError):
                (folder / name).unlink()

    def _make_room(self, size: int) -> None:
        """Drop the oldest envelopes until ``size`` more bytes and one more file fit."""
        total = sum(e.size for e in self._entries)
        dropped = 0
        while self._entries and (
            total + size > self.max_bytes or len(self._entries) + 1 > self.max_files
        ):
            oldest = self._entries.pop(0)
            with contextlib.suppress(OSError):
                oldest.path.unlink()
            total -= oldest.size
            dropped += 1
        if dropped:
            self._drop(dropped, "spool full: oldest envelopes dropped")

    def _drop(self, count: int, reason: str) -> None:
        self.status["dropped"] = int(self.status["dropped"]) + count
        log.warning(
            "spool: %d envelope(s) dropped (%s); %d dropped in all",
            count,
            reason,
            self.status["dropped"],
        )
        self.save_status(last_drop=reason)

    def _write_atomic(self, path: Path, body: bytes) -> None:
        temporary = path.parent / f"{_TMP_PREFIX}{path.name}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            try:
                view = memoryview(body)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            temporary.replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
