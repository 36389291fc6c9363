"""Two private Docker Engines for the host audit: a careless one with containers breaking
many CIS rules, and a hardened one with well-behaved containers. Each is a scripts/testenv
environment of its own (``$SEAWALL_TESTENV-c`` and ``-h``) started with its daemon.json."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.testenv import (
    TESTENV_SCRIPTS,
    SeawallTestEnv,
    state_dir_from_environment,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hardening"
BUSYBOX = Path("/bin/busybox")


@dataclass(frozen=True)
class AuditedHost:
    env: SeawallTestEnv
    image: str

    @property
    def endpoint(self) -> str:
        return self.env.docker_host


def free_port() -> int:
    """A TCP port of 127.0.0.1 free now (for a daemon's tcp endpoint or swarm port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _script(name: str, state: Path, daemon_json: Path | None) -> None:
    environment = {**os.environ, "SEAWALL_TESTENV": str(state)}
    environment.pop("SEAWALL_TESTENV_DAEMON_JSON", None)
    if daemon_json is not None:
        environment["SEAWALL_TESTENV_DAEMON_JSON"] = str(daemon_json)
    proc = subprocess.run([str(TESTENV_SCRIPTS / name)], env=environment, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    if proc.returncode != 0:
        pytest.fail(f"testenv/{name} failed:\n{proc.stdout}{proc.stderr}", pytrace=False)


@pytest.fixture(scope="session")
def host_env_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """``start(suffix, daemon_json) -> SeawallTestEnv``: a fresh private engine."""
    if shutil.which("dockerd") is None or os.geteuid() != 0:
        pytest.fail("the host audit tests need root and dockerd (scripts/install-system-deps)")
    started: list[Path] = []

    def start(suffix: str, daemon_json: Path) -> SeawallTestEnv:
        state = Path(f"{state_dir_from_environment()}-{suffix}")
        _script("down", state, None)
        _script("up", state, daemon_json)
        started.append(state)
        return SeawallTestEnv.from_env_file(state / "env")

    yield start
    if os.environ.get("SEAWALL_TESTENV_KEEP") != "1":
        for state in started:
            _script("down", state, None)


def build(env: SeawallTestEnv, context: Path, dockerfile: str) -> str:
    shutil.copy(BUSYBOX, context / "busybox")
    shutil.copy(FIXTURES / "sshd", context / "sshd")
    (context / "Dockerfile").write_text(dockerfile)
    tag = f"seawall-test/{uuid.uuid4().hex[:12]}:latest"
    env.docker("build", "--quiet", "--network", "none", "--tag", tag, str(context))
    return tag


@pytest.fixture(scope="session")
def careless_host(host_env_factory, tmp_path_factory: pytest.TempPathFactory) -> AuditedHost:
    """Careless daemon.json; containers: wild (host network and PID namespace, /etc and
    docker.sock mounted read-write, SYS_ADMIN), ssh (sshd running), ports (created: ports
    80 and 443 on every interface), priv (created: privileged, SYS_RESOURCE, ...)."""
    env = host_env_factory("c", FIXTURES / "careless-daemon.json")
    context = tmp_path_factory.mktemp("careless")
    image = build(env, context, 'FROM scratch\nCOPY busybox /bin/busybox\n'
                  'COPY sshd /usr/sbin/sshd\nCMD ["/bin/busybox", "sleep", "3600"]\n')  # fmt: skip
    shared = tmp_path_factory.mktemp("shared")
    socket = env.docker_host.removeprefix("unix://")
    env.docker("run", "-d", "--name", "wild", "--network", "host", "--pid", "host",
               "-v", "/etc:/host-etc", "-v", f"{socket}:/var/run/docker.sock",
               "--cap-add", "SYS_ADMIN", image)  # fmt: skip
    env.docker("run", "-d", "--name", "ssh", image, "/usr/sbin/sshd")
    env.docker("create", "--name", "ports", "-p", "80:80", "-p", "0.0.0.0:443:443",
               "-p", "127.0.0.1:8080:8080", image)  # fmt: skip
    env.docker("create", "--name", "priv", "--privileged", "--cap-add", "SYS_RESOURCE",
               "--restart", "always", "--security-opt", "seccomp=unconfined", "--uts", "host",
               "--ipc", "host", "--userns", "host", "--cgroup-parent", "/custom",
               "--device", "/dev/null:/dev/xnull", "-v", f"{shared}:/mnt:shared",
               image)  # fmt: skip
    return AuditedHost(env, image)


@pytest.fixture(scope="session")
def hardened_host(host_env_factory, tmp_path_factory: pytest.TempPathFactory) -> AuditedHost:
    """Hardened daemon.json; containers good1 (running) and good2 (created), both limited,
    read-only, unprivileged, with a health check."""
    env = host_env_factory("h", FIXTURES / "hardened-daemon.json")
    context = tmp_path_factory.mktemp("hardened")
    image = build(env, context, 'FROM scratch\nCOPY busybox /bin/busybox\nUSER 1000:1000\n'
                  'HEALTHCHECK CMD ["/bin/busybox", "true"]\n'
                  'CMD ["/bin/busybox", "sleep", "3600"]\n')  # fmt: skip
    limits = ["--memory", "64m", "--cpu-shares", "512", "--pids-limit", "64", "--read-only",
              "--restart", "on-failure:3", "--ulimit", "nproc=64:64"]  # fmt: skip
    env.docker("run", "-d", "--name", "good1", *limits, image)
    env.docker("create", "--name", "good2", *limits, image)
    return AuditedHost(env, image)
