"""The real test services of scripts/testenv, as seen from Python tests.

``scripts/testenv/up`` writes ``$SEAWALL_TESTENV/env`` (default /tmp/seawall-testenv);
:class:`SeawallTestEnv` reads it and runs the docker CLI against the private engine with
its own config dir. The fixtures using this live in tests/conftest.py.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTENV_SCRIPTS = REPO_ROOT / "scripts" / "testenv"
DEFAULT_STATE_DIR = "/tmp/seawall-testenv"
REQUIRED_COMMANDS = ("dockerd", "docker", "docker-registry", "htpasswd")


class DockerCLIError(RuntimeError):
    """A docker CLI command of the test environment failed (message has its output)."""


@dataclass(frozen=True)
class Registry:
    """A running test registry: ``host`` is "127.0.0.1:PORT" (plain HTTP)."""

    host: str
    user: str | None = None
    password: str | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def auth(self) -> tuple[str, str] | None:
        """(user, password) for httpx ``auth=``, or None for the open registry."""
        if self.user is None or self.password is None:
            return None
        return (self.user, self.password)


@dataclass(frozen=True)
class TokenService:
    """The token server behind ``registry_token`` (key_path: its RS256 signing key)."""

    realm: str
    service: str
    issuer: str
    key_path: Path


@dataclass(frozen=True)
class SeawallTestEnv:
    """Everything ``scripts/testenv/up`` started, as read from ``$STATE/env``."""

    state_dir: Path
    docker_host: str
    docker_config: Path
    registry: Registry
    registry_basic: Registry
    registry_token: Registry
    token: TokenService

    @classmethod
    def from_env_file(cls, path: Path) -> SeawallTestEnv:
        values: dict[str, str] = {}
        for line in path.read_text().splitlines():
            words = shlex.split(line)
            if len(words) == 2 and words[0] == "export" and "=" in words[1]:
                key, _, value = words[1].partition("=")
                values[key] = value
        return cls(
            state_dir=Path(values["SEAWALL_TESTENV"]),
            docker_host=values["SEAWALL_TEST_DOCKER_HOST"],
            docker_config=Path(values["SEAWALL_TEST_DOCKER_CONFIG"]),
            registry=Registry(values["SEAWALL_TEST_REGISTRY"]),
            registry_basic=Registry(
                values["SEAWALL_TEST_REGISTRY_BASIC"],
                values["SEAWALL_TEST_REGISTRY_BASIC_USER"],
                values["SEAWALL_TEST_REGISTRY_BASIC_PASSWORD"],
            ),
            registry_token=Registry(
                values["SEAWALL_TEST_REGISTRY_TOKEN"],
                values["SEAWALL_TEST_REGISTRY_TOKEN_USER"],
                values["SEAWALL_TEST_REGISTRY_TOKEN_PASSWORD"],
            ),
            token=TokenService(
                realm=values["SEAWALL_TEST_TOKEN_REALM"],
                service=values["SEAWALL_TEST_TOKEN_SERVICE"],
                issuer=values["SEAWALL_TEST_TOKEN_ISSUER"],
                key_path=Path(values["SEAWALL_TEST_TOKEN_KEY"]),
            ),
        )

    def cli_env(self) -> dict[str, str]:
        """Environment for the docker CLI: this engine, this config dir, never ~/.docker."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env.update(
            DOCKER_HOST=self.docker_host,
            DOCKER_CONFIG=str(self.docker_config),
            # The classic builder: no buildx plugin needed, works with every CLI version.
            DOCKER_BUILDKIT="0",
        )
        return env

    def docker(self, *args: str, stdin: str | None = None, timeout: float = 300) -> str:
        """Run ``docker ARGS`` against this engine; return stdout, raise DockerCLIError."""
        proc = subprocess.run(
            ["docker", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.cli_env(),
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise DockerCLIError(
                f"docker {shlex.join(args)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
            )
        return proc.stdout

    def healthy(self) -> bool:
        """True if the engine answers and every registry and the token server respond."""
        try:
            client = docker.DockerClient(base_url=self.docker_host, version="auto", timeout=5)
            try:
                client.ping()
            finally:
                client.close()
            with httpx.Client(trust_env=False, timeout=5) as http:
                for reg in (self.registry, self.registry_basic, self.registry_token):
                    reply = http.get(f"{reg.url}/v2/")
                    if "Docker-Distribution-Api-Version" not in reply.headers:
                        return False
                realm = httpx.URL(self.token.realm)
                return http.get(realm.copy_with(path="/healthz")).status_code == 200
        except (docker.errors.DockerException, httpx.HTTPError, OSError):
            return False


# build_image(context, tag=None, dockerfile=None) -> tag
# push_image(tag, registry, repo=None) -> "host:port/repo:tag"
BuildImage = Callable[..., str]
PushImage = Callable[..., str]


def state_dir_from_environment() -> Path:
    """$SEAWALL_TESTENV, or the default state dir of scripts/testenv."""
    return Path(os.environ.get("SEAWALL_TESTENV", DEFAULT_STATE_DIR))


def run_script(name: str, state_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run scripts/testenv/NAME (up or down) for ``state_dir``, capturing its output."""
    return subprocess.run(
        [str(TESTENV_SCRIPTS / name)],
        env={**os.environ, "SEAWALL_TESTENV": str(state_dir)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def split_reference(ref: str) -> tuple[str, str]:
    """``[host[:port]/]repo[:tag]`` -> (repo without registry host, tag)."""
    name, tag = ref, "latest"
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = ref.rpartition(":")
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        name = rest
    return name, tag
