"""A real SMTP server for tests: aiosmtpd in its own process, delivering into a Maildir."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class SmtpServer:
    port: int
    maildir: Path

    def messages(self, expected: int = 1, wait: float = 5.0) -> list[bytes]:
        """The messages delivered so far, once there are ``expected`` (or ``wait`` passed)."""
        deadline = time.monotonic() + wait
        while True:
            files = sorted((self.maildir / "new").glob("*"))
            if len(files) >= expected or time.monotonic() > deadline:
                return [f.read_bytes() for f in files]
            time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_smtp(maildir: Path) -> Iterator[SmtpServer]:
    """aiosmtpd on a free port until the block ends."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Mailbox", str(maildir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_for_port(port, process)
        yield SmtpServer(port, maildir)
    finally:
        process.terminate()
        process.wait(10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"aiosmtpd exited: {process.stderr.read()!r}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("aiosmtpd did not start")
