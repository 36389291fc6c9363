"""The Dockerfile: read as text (every COPY source exists and is sent, numeric non-root
user, pinned base, health check), and built and run for real on the private Docker Engine
with a base image made from this machine's Python (no registry is reachable here)."""

from __future__ import annotations

import contextlib
import fnmatch
import json
import re
import shlex
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.deploy import localbase
from tests.deploy.conftest import REPO
from tests.support.testenv import DockerCLIError, SeawallTestEnv

DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
UID = 10001


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def _ignored(path: str) -> bool:
    patterns = [
        p.strip()
        for p in DOCKERIGNORE.read_text().splitlines()
        if p.strip() and not p.startswith("#")
    ]
    parts = Path(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]  # a directory's contents
    return any(
        fnmatch.fnmatch(prefix, p.removeprefix("**/")) or fnmatch.fnmatch(prefix, p)
        for p in patterns
        for prefix in prefixes
    )


def test_copy_sources_exist_and_are_sent() -> None:
    copies = [rest for keyword, rest in _instructions() if keyword == "COPY"]
    assert copies
    for rest in copies:
        words = [w for w in shlex.split(rest) if not w.startswith("--")]
        if "--from=" in rest:
            continue
        for source in words[:-1]:
            assert (REPO / source).exists(), source
            assert not _ignored(source), f"{source} is excluded by .dockerignore"


def test_dockerignore_keeps_the_context_small() -> None:
    for heavy in (".venv", ".git", "tests", "bench", "bench/.work", "docs"):
        assert _ignored(heavy), heavy


def test_runs_as_a_numeric_non_root_user() -> None:
    users = [rest for keyword, rest in _instructions() if keyword == "USER"]
    assert users == [f"{UID}:{UID}"]
    # the last stage's USER comes after its last RUN (nothing after it runs as root)
    keywords = [k for k, _ in _instructions()]
    last_from = max(i for i, k in enumerate(keywords) if k == "FROM")
    assert "RUN" not in keywords[keywords.index("USER", last_from) :]


def test_base_image_is_pinned() -> None:
    args = dict(
        rest.split("=", 1) for keyword, rest in _instructions() if keyword == "ARG" and "=" in rest
    )
    base = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base), base
    froms = [rest.split()[0] for keyword, rest in _instructions() if keyword == "FROM"]
    assert froms == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    assert "latest" not in DOCKERFILE.read_text()


def test_builds_from_the_constraints() -> None:
    runs = " ".join(rest for keyword, rest in _instructions() if keyword == "RUN")
    assert "pip wheel --wheel-dir /wheels -c constraints.txt ." in runs
    assert "--no-index" in runs  # the runtime environment is installed from those wheels only


def test_entrypoint_healthcheck_ports_labels() -> None:
    instructions = _instructions()
    keywords = dict(instructions)
    assert json.loads(keywords["ENTRYPOINT"]) == ["seawall"]
    assert keywords["EXPOSE"] == "8080"
    assert "CMD" in keywords["HEALTHCHECK"] and "python" in keywords["HEALTHCHECK"]
    assert "curl" not in keywords["HEALTHCHECK"]
    assert json.loads(keywords["VOLUME"]) == ["/var/lib/seawall"]
    labels = " ".join(rest for keyword, rest in instructions if keyword == "LABEL")
    for key in ("title", "description", "licenses", "version", "revision"):
        assert f"org.opencontainers.image.{key}=" in labels
    assert 'licenses="Apache-2.0"' in labels
    env = " ".join(rest for keyword, rest in instructions if keyword == "ENV")
    for setting in ("HOME=/var/lib/seawall", "TMPDIR=/tmp", "SEAWALL_DATA_DIR=/var/lib/seawall"):
        assert setting in env


# --- the real build --------------------------------------------------------------------


def _descendants(testenv: SeawallTestEnv, root: str) -> list[str]:
    """Images built on ``root`` (the untagged builder stage too), children first."""
    ids = testenv.docker("images", "--all", "--quiet", "--no-trunc").split()
    if not ids:
        return []
    parents = {
        i["Id"]: i.get("Parent", "") for i in json.loads(testenv.docker("image", "inspect", *ids))
    }

    def depth(image: str) -> int:
        n = 0
        while image and image != root:
            image, n = parents.get(image, ""), n + 1
        return n if image == root else -1

    found = [(depth(i), i) for i in parents if i != root]
    return [i for d, i in sorted(found, reverse=True) if d > 0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_image_builds_and_serves_read_only_as_10001(
    testenv: SeawallTestEnv, tmp_path: Path
) -> None:
    """deploy/build-image with a local Python base: ~3 minutes (pip wheel from PyPI)."""
    run_id = uuid.uuid4().hex[:12]
    base, image, container = (
        f"seawall-test/deploy-python:{run_id}",
        f"seawall-test/deploy-seawall:{run_id}",
        f"seawall-deploy-{run_id}",
    )
    rootfs = tmp_path / "rootfs.tar"
    localbase.write_rootfs(rootfs)
    base_id = ""
    try:
        base_id = testenv.docker("import", str(rootfs), base, timeout=300).strip()
        build = subprocess.run(
            [str(REPO / "deploy" / "build-image"), image, "--network", "host"],
            env={**testenv.cli_env(), "PYTHON_IMAGE": base, "DOCKER_BUILDKIT": "0"},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]

        config = json.loads(testenv.docker("image", "inspect", image))[0]["Config"]
        assert config["User"] == f"{UID}:{UID}"
        assert config["Entrypoint"] == ["seawall"]
        assert "8080/tcp" in config["ExposedPorts"]
        assert config["Labels"]["org.opencontainers.image.licenses"] == "Apache-2.0"
        assert config["Labels"]["org.opencontainers.image.version"] == "0.1.0"
        healthcheck = config["Healthcheck"]["Test"]
        assert healthcheck[0] == "CMD"

        version = testenv.docker("run", "--rm", "--read-only", "--tmpfs", "/tmp", image, "version")
        assert version.strip() == "seawall 0.1.0"
        assert (
            "pip"
            not in testenv.docker(
                "run", "--rm", "--entrypoint", "ls", image, "/opt/seawall/bin"
            ).split()
        )

        # the center, read-only root, as 10001, data on the image's volume; its own
        # HEALTHCHECK command answers 0 once it serves
        port = _free_port()
        testenv.docker(
            "run", "--detach", "--name", container, "--network", "host", "--read-only",
            "--tmpfs", "/tmp", "--env", f"SEAWALL_HEALTHCHECK_URL=http://127.0.0.1:{port}/healthz",
            image, "serve", "--host", "127.0.0.1", "--port", str(port),
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                testenv.docker("exec", container, *healthcheck[1:])
                break
            except DockerCLIError:
                if time.monotonic() > deadline:
                    raise AssertionError(testenv.docker("logs", container)) from None
                time.sleep(1)
        assert testenv.docker("exec", container, "id", "-u").strip() == str(UID)
        listing = testenv.docker("exec", container, "ls", "/var/lib/seawall/data")
        assert "seawall.db" in listing.split()
    finally:
        cleanup = [("rm", "--force", "--volumes", container)]
        if base_id:
            cleanup += [("rmi", "--force", i) for i in _descendants(testenv, base_id)]
        cleanup.append(("rmi", "--force", base))
        for args in cleanup:
            with contextlib.suppress(DockerCLIError):
                testenv.docker(*args)
