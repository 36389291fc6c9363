"""A real center for tests that need one over HTTP: ``seawall serve`` in its own process on
SQLite, with an owner and tokens made by ``seawall admin`` as the README says."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seawall(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "seawall", *args],
        capture_output=True, text=True, input=stdin, timeout=timeout,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


@dataclass
class Server:
    url: str
    data_dir: Path
    db: Path
    token: str
    process: subprocess.Popen[str]
    database: str = ""

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.get(self.url + path, headers=headers, timeout=30)

    def post(self, path: str, json: object = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.post(self.url + path, json=json, headers=headers, timeout=30)

    def create_token(self, role: str, name: str) -> str:
        made = seawall("admin", "create-token", name, "--role", role, "--expires", "90d",
                       *self.where())  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert "shown only once" in " ".join(made.stderr.split())
        return made.stdout.strip()

    def where(self) -> list[str]:
        """The data options of ``seawall admin`` for this center."""
        return [
            "--data-dir",
            str(self.data_dir),
            *(["--database", self.database] * bool(self.database)),
        ]


def wait_healthy(
    url: str, process: subprocess.Popen[str], output: Path, seconds: float = 60
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
        if process.poll() is not None:
            raise AssertionError(f"serve died: {output.read_text(errors='replace')[-3000:]}")
    raise AssertionError(f"{url} did not answer within {seconds} s")


@contextmanager
def running_center(
    data_dir: Path,
    db: Path,
    *extra: str,
    role: str = "contributor",
    port: int = 0,
    database: str = "",
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """``seawall serve`` on ``data_dir`` until the block ends; the first call there creates an
    owner (alice) and every call a token of ``role``. Its output goes to ``serve-PORT.log``
    beside ``data_dir`` (a pipe nobody reads would stall a server that logs a lot)."""
    port = port or free_port()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    output = data_dir.parent / f"serve-{port}.log"
    with output.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "seawall", "serve", "--port", str(port), "--data-dir",
             str(data_dir), "--db", str(db), *(["--database", database] * bool(database)),
             *extra],
            stdout=sink, stderr=sink, text=True, env={**os.environ, **(env or {})},
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, output)
        server = Server(url, data_dir, db, "", process, database)
        made = seawall("admin", "create-user", "alice", "--role", "owner", "--password-stdin",
                       *server.where(), stdin=PASSWORD + "\n")  # fmt: skip
        assert made.returncode == 0 or "already" in made.stderr, made.stderr
        server.token = server.create_token(role, f"{role}-{port}-{time.monotonic_ns()}")
        yield server
    finally:
        process.terminate()
        process.wait(30)


def wait_for(what: str, probe: Callable[[], object], seconds: float = 60) -> object:
    """``probe()``'s first truthy answer, polled every 0.2 s; AssertionError naming ``what``
    after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {seconds} s")
