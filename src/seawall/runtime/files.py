"""Reading log files of events: bounded lines, and following a file across rotation.

A line longer than the limit is counted and skipped whole (never held in memory whole). A
followed file is read from its end (only activity after the watcher starts counts); when it
is rotated (a new inode at the path) or truncated, reading resumes from the start of the
new content, after draining what was left in the old file. Only a regular file is followed
(a FIFO would block the watcher, ``/dev/zero`` never ends a line): anything else is
reported as bad input and tried again later, as a missing file is.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from seawall.errors import InputError
from seawall.runtime.badinput import BadInput
from seawall.safety.files import open_regular


def bounded_lines(stream: IO[bytes], limit: int, bad: BadInput) -> Iterator[bytes]:
    """Complete lines of ``stream`` up to ``limit`` bytes; longer ones are skipped."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit:
            bad("oversized line", f"more than {limit} bytes")
            while line and not line.endswith(b"\n"):
                line = stream.readline(limit + 1)
            continue
        yield line


class FileFollower:
    """Calls ``on_line`` for each new complete line appended to ``path`` (``tail -F``)."""

    def __init__(
        self,
        path: Path,
        on_line: Callable[[bytes], None],
        bad: BadInput,
        limit: int,
        interval: float = 0.2,
        on_idle: Callable[[], None] | None = None,
        from_start: bool = False,
    ) -> None:
        self.path = path
        self.on_line = on_line
        self.on_idle = on_idle
        self.bad = bad
        self.limit = limit
        self.interval = interval
        self.from_start = from_start
        self.stopped = threading.Event()
        self._refused = ""  # why the path could not be opened last time
        # Opened (and positioned at the end) now, not when the thread starts: only lines
        # written after the watcher was built are new, however late its thread runs.
        self._opened = self._open(at_end=not from_start)

    def _open(self, at_end: bool) -> tuple[IO[bytes], int] | None:
        try:
            stream = open_regular(self.path)
        except InputError as exc:
            if self.path.exists() and exc.message != self._refused:  # once, not every retry
                self.bad("unreadable log file", exc.message)
            self._refused = exc.message
            return None
        self._refused = ""
        if at_end:
            stream.seek(0, os.SEEK_END)
        return stream, os.fstat(stream.fileno()).st_ino

    def run(self) -> None:
        opened = self._opened
        partial = b""
        while not self.stopped.is_set():
            if opened is None:
                self.stopped.wait(self.interval)
                opened = self._open(at_end=False)
                continue
            stream, inode = opened
            chunk = stream.read(1 << 20)
            if chunk:
                partial = self._lines(partial + chunk)
                continue
            if self.on_idle is not None:
                self.on_idle()
            try:
                status = self.path.stat()
            except OSError:
                status = None
            if status is None or status.st_ino != inode:  # rotated: drain done, switch
                stream.close()
                partial = b""
                opened = self._open(at_end=False)
            elif status.st_size < stream.tell():  # truncated in place
                stream.seek(0)
                partial = b""
            else:
                self.stopped.wait(self.interval)
        if opened is not None:
            opened[0].close()

    def _lines(self, data: bytes) -> bytes:
        *lines, rest = data.split(b"\n")
        for line in lines:
            if len(line) > self.limit:
                self.bad("oversized line", f"more than {self.limit} bytes")
            elif line.strip():
                self.on_line(line)
        if len(rest) > self.limit:
            self.bad("oversized line", f"more than {self.limit} bytes")
            return b""
        return rest

    def stop(self) -> None:
        self.stopped.set()
