"""Shared pytest fixtures: real test services, no mocks.

``scripts/testenv/up`` starts a private Docker Engine and three registries (open,
basic auth, bearer token) under ``$SEAWALL_TESTENV`` (default /tmp/seawall-testenv)
and describes them in ``$SEAWALL_TESTENV/env``. The ``testenv`` fixture reuses a
running environment (so ``.ci/run`` can start it once around the whole run) or
starts one itself and stops it when the session ends (unless
``SEAWALL_TESTENV_KEEP=1``), so plain ``pytest`` works.

Tests using these fixtures are marked ``docker`` / ``registry`` automatically;
``pytest -m "not docker and not registry"`` runs everything else without them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from hypothesis import settings

from tests.support.testenv import (
    REQUIRED_COMMANDS,
    BuildImage,
    PushImage,
    Registry,
    SeawallTestEnv,
    run_script,
    split_reference,
    state_dir_from_environment,
)

# Property tests run the same examples on every machine and every run (``repeatable``), so a
# CI run's verdict does not depend on its luck and nothing is written into the checkout;
# ``SEAWALL_HYPOTHESIS_PROFILE=explore`` draws new examples, five times as many, for a
# maintainer hunting bugs (docs/fuzzing.md).
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", max_examples=500, database=None)
settings.load_profile(os.environ.get("SEAWALL_HYPOTHESIS_PROFILE", "repeatable"))

# Fixture name -> marker added to every test that (transitively) uses it.
_DOCKER_FIXTURES = frozenset({"testenv", "docker_client", "build_image", "push_image"})
_REGISTRY_FIXTURES = frozenset({"registry", "registry_basic", "registry_token", "push_image"})


def _check_prerequisites() -> None:
    missing = [cmd for cmd in REQUIRED_COMMANDS if shutil.which(cmd) is None]
    problems = [f"missing commands: {', '.join(missing)}"] if missing else []
    if os.geteuid() != 0:
        problems.append("the private dockerd needs root")
    if problems:
        pytest.fail(
            "cannot start the test environment ("
            + "; ".join(problems)
            + "). Run scripts/install-system-deps as root, or deselect these tests with "
            + "-m 'not docker and not registry'.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def testenv() -> Iterator[SeawallTestEnv]:
    """The running test services; started (and later stopped) here if not already up."""
    state_dir = state_dir_from_environment()
    env_file = state_dir / "env"
    if env_file.is_file():
        existing = SeawallTestEnv.from_env_file(env_file)
        if existing.healthy():
            yield existing  # started by someone else (e.g. .ci/run): leave it running
            return
    _check_prerequisites()
    up = run_script("up", state_dir)
    if up.returncode != 0:
        pytest.fail(f"scripts/testenv/up failed:\n{up.stdout}{up.stderr}", pytrace=False)
    try:
        yield SeawallTestEnv.from_env_file(env_file)
    finally:
        if os.environ.get("SEAWALL_TESTENV_KEEP") != "1":
            down = run_script("down", state_dir)
            if down.returncode != 0:
                print(f"scripts/testenv/down failed:\n{down.stdout}{down.stderr}")


@pytest.fixture(scope="session")
def docker_client(testenv: SeawallTestEnv) -> Iterator[docker.DockerClient]:
    """docker SDK client for the private engine."""
    client = docker.DockerClient(base_url=testenv.docker_host, version="auto", timeout=120)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def registry(testenv: SeawallTestEnv) -> Registry:
    """Open registry (no auth)."""
    return testenv.registry


@pytest.fixture(scope="session")
def registry_basic(testenv: SeawallTestEnv) -> Registry:
    """Registry with htpasswd (bcrypt) basic auth; user/password set."""
    return testenv.registry_basic


@pytest.fixture(scope="session")
def registry_token(testenv: SeawallTestEnv) -> Registry:
    """Registry with bearer-token auth (token server at testenv.token.realm)."""
    return testenv.registry_token


@pytest.fixture(scope="session")
def build_image(testenv: SeawallTestEnv) -> BuildImage:
    """``build_image(context_dir, tag=None, dockerfile=None) -> tag``.

    Runs ``docker build`` (classic builder, ``--network none``: containers have no
    network, so copy files into the context). Without ``tag`` a unique
    ``seawall-test/<random>:latest`` is used. Keep images tiny: vfs copies every layer.
    """

    def build(context: Path | str, tag: str | None = None, dockerfile: str | None = None) -> str:
        tag = tag or f"seawall-test/{uuid.uuid4().hex[:12]}:latest"
        args = ["build", "--quiet", "--network", "none", "--tag", tag]
        if dockerfile is not None:
            args += ["--file", str(Path(context) / dockerfile)]
        testenv.docker(*args, str(context))
        return tag

    return build


@pytest.fixture(scope="session")
def push_image(testenv: SeawallTestEnv) -> PushImage:
    """``push_image(tag, registry, repo=None) -> "host:port/repo:tag"``.

    Tags the local image into ``registry`` (same repository path and tag unless
    ``repo`` is given), ``docker login``s once per registry when it has credentials
    (config in $STATE/docker-config, never ~/.docker) and pushes.
    """
    logged_in: set[str] = set()

    def push(tag: str, registry: Registry, repo: str | None = None) -> str:
        name, image_tag = split_reference(tag)
        ref = f"{registry.host}/{repo or name}:{image_tag}"
        if registry.auth is not None and registry.host not in logged_in:
            user, password = registry.auth
            testenv.docker(
                "login", "--username", user, "--password-stdin", registry.host, stdin=password
            )
            logged_in.add(registry.host)
        testenv.docker("tag", tag, ref)
        testenv.docker("push", ref)
        return ref

    return push


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by the service fixtures they use, so ``-m`` can select or skip them."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & _DOCKER_FIXTURES:
            item.add_marker(pytest.mark.docker)
        if names & _REGISTRY_FIXTURES:
            item.add_marker(pytest.mark.registry)
