"""Real parts for the agent's tests: ``seawall serve`` in its own process on SQLite (which a
test can stop and start again on the same port and data), tokens from ``seawall admin``,
the private Docker Engine of ``scripts/testenv/up`` and ``seawall agent`` as a subprocess.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from tests.runtime.conftest import shell_image  # noqa: F401  (a fixture, used by the tests)
from tests.support.advisorydb import demo_database
from tests.support.testenv import SeawallTestEnv

PYTHON = [sys.executable, "-m", "seawall"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seawall(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PYTHON, *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@dataclass
class Center:
    """A ``seawall serve`` process; :meth:`stop` and :meth:`start` keep port and data."""

    base: Path
    db: Path
    port: int = field(default_factory=free_port)
    token: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    def start(self) -> None:
        log = (self.base / "serve.log").open("ab")
        self.process = subprocess.Popen(
            [*PYTHON, "serve", "--port", str(self.port), "--data-dir", str(self.data_dir),
             "--db", str(self.db)],
            stdout=log, stderr=log,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            if self.process.poll() is not None:
                raise AssertionError((self.base / "serve.log").read_text()[-3000:])
            time.sleep(0.1)
        raise AssertionError("seawall serve did not come up")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        self.process = None

    def create_token(self, role: str = "contributor") -> str:
        made = seawall("admin", "create-token", f"{role}-{uuid.uuid4().hex[:6]}", "--role", role,
                       "--data-dir", str(self.data_dir))  # fmt: skip
        assert made.returncode == 0, made.stderr
        return made.stdout.strip()

    def get(self, path: str, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        reply = httpx.get(self.url + path, params=params, headers=headers, timeout=30)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def scans(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.get("/api/v1/scans", limit=500, **({"cursor": cursor} if cursor else {}))
            items += page["items"]
            cursor = page.get("next")
            if not cursor:
                return items

    def scan_kinds(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for scan in self.scans():
            counts[scan["kind"]] = counts.get(scan["kind"], 0) + 1
        return counts

    def alerts(self) -> list[dict[str, Any]]:
        return list(self.get("/api/v1/alerts", limit=500)["items"])


@pytest.fixture(scope="session")
def advisories(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_database(tmp_path_factory.mktemp("advisories"))


@pytest.fixture
def center(tmp_path_factory: pytest.TempPathFactory, advisories: Path) -> Iterator[Center]:
    made = Center(tmp_path_factory.mktemp("center"), advisories)
    made.start()
    made.token = made.create_token()
    try:
        yield made
    finally:
        made.stop()


@dataclass
class AgentProcess:
    process: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not in the agent's log:\n{self.output()[-4000:]}")

    def terminate(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


@pytest.fixture
def docker_env(testenv: SeawallTestEnv, tmp_path: Path) -> dict[str, str]:
    """The agent's environment: the private engine, a layer cache of the test's own."""
    return {"DOCKER_HOST": testenv.docker_host, "SEAWALL_CACHE_DIR": str(tmp_path / "cache")}


RunAgent = Callable[..., subprocess.CompletedProcess[str]]
StartAgent = Callable[..., AgentProcess]


@pytest.fixture
def run_agent(docker_env: dict[str, str]) -> RunAgent:
    """``seawall agent --once`` with the given options, to completion."""

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return seawall("agent", "--once", *args, env=docker_env, timeout=timeout)

    return run


@pytest.fixture
def start_agent(docker_env: dict[str, str], tmp_path: Path) -> Iterator[StartAgent]:
    """A long-running ``seawall agent``, stopped (SIGTERM, then SIGKILL) at the end."""
    started: list[AgentProcess] = []

    def start(*args: str) -> AgentProcess:
        log = tmp_path / f"agent-{len(started)}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [*PYTHON, "agent", *args], stdout=out, stderr=subprocess.STDOUT, text=True,
                env={**os.environ, **docker_env},
            )  # fmt: skip
        agent = AgentProcess(process, log)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        if agent.process.poll() is None:
            agent.process.send_signal(signal.SIGTERM)
            try:
                agent.process.wait(30)
            except subprocess.TimeoutExpired:
                agent.process.kill()
                agent.process.wait(10)


@pytest.fixture
def containers(docker_client: docker.DockerClient) -> Iterator[list[str]]:
    """Names to give test containers; removed at the end."""
    names: list[str] = []
    yield names
    for name in names:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.containers.get(name).remove(force=True)


def wait_until(check: Callable[[], Any], timeout: float = 60, every: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)
