"""`seawall host audit` against a real Podman service (its Docker-compatible API).

The fixture runs ``podman system service`` as root with its own storage (vfs) under a temp
dir, imports a FROM-scratch busybox image with ``podman import`` (a Podman-made image) and
loads a docker-archive written by tests/support/imagebuild.py (whose history entries have no
``created`` time: Podman 4.3 then fails ``GET /images/{id}/history``), and runs one container
through the Docker API with ``--network none``. Stopped (containers removed, storage deleted)
afterwards."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.support.imagebuild import Image, Layer, write_docker_archive

BUSYBOX = Path("/bin/busybox")
# Podman's default ulimits (nofile and nproc at their maximum) cannot be set in this sandbox
# (runc: "error setting rlimits ... operation not permitted"); the service uses these.
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
"""
PODMAN_NA = "Podman's Docker-compatible API"


def _podman(state: Path) -> list[str]:
    return ["podman", "--root", str(state / "root"), "--runroot", str(state / "run"),
            "--storage-driver", "vfs", "--tmpdir", str(state / "tmp")]  # fmt: skip


def _run(state: Path, *args: str) -> str:
    environment = {**os.environ, "CONTAINERS_CONF": str(state / "containers.conf")}
    proc = subprocess.run([*_podman(state), *args], env=environment, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    if proc.returncode != 0:
        pytest.fail(f"podman {' '.join(args)} failed:\n{proc.stderr}", pytrace=False)
    return proc.stdout


def _answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(str(path))
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def podman_endpoint() -> Iterator[str]:
    if shutil.which("podman") is None or os.geteuid() != 0:
        pytest.fail("the Podman tests need root and podman (scripts/install-system-deps)")
    state = Path(tempfile.mkdtemp(prefix="sw-pod-", dir="/tmp"))
    (state / "containers.conf").write_text(CONTAINERS_CONF)
    rootfs = state / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy(BUSYBOX, rootfs / "bin" / "busybox")
    subprocess.run(["tar", "-C", str(rootfs), "-cf", str(state / "rootfs.tar"), "."], check=True)
    _run(state, "import", "--change", 'CMD ["/bin/busybox", "sleep", "3600"]',
         str(state / "rootfs.tar"), "seawall-test/imported:1")  # fmt: skip
    archive = Image([Layer({"bin/busybox": BUSYBOX.read_bytes()})], tag="seawall-test/archive:1")
    _run(state, "load", "-i", str(write_docker_archive(archive, state / "archive.tar")))
    sock = state / "podman.sock"
    service = subprocess.Popen(
        [*_podman(state), "system", "service", "--time=0", f"unix://{sock}"],
        env={**os.environ, "CONTAINERS_CONF": str(state / "containers.conf")},
        stdout=subprocess.DEVNULL, stderr=(state / "service.log").open("w"),
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not _answers(sock):
            if service.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"podman service did not start:\n{(state / 'service.log').read_text()}")
            time.sleep(0.1)
        client = docker.DockerClient(base_url=f"unix://{sock}")
        try:
            client.containers.run("seawall-test/imported:1", name="pc", network_mode="none",
                                  detach=True)  # fmt: skip
        finally:
            client.close()
        yield f"unix://{sock}"
    finally:
        service.terminate()
        service.wait(timeout=30)
        _run(state, "rm", "--all", "--force", "--time", "0")  # conmon outlives the service
        _remove(state)


def _remove(state: Path) -> None:
    """Delete the state dir; the containers' exit commands may still write into it."""
    for _ in range(50):
        try:
            shutil.rmtree(state)
            return
        except OSError:
            time.sleep(0.1)
    shutil.rmtree(state)


def _audit(endpoint: str, *args: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "seawall", "host", "audit", "-H", endpoint, "-f", "json", *args],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    document: dict[str, object] = json.loads(proc.stdout)
    return document


def test_podman_is_detected_and_dockerd_checks_do_not_apply(podman_endpoint: str) -> None:
    document = _audit(podman_endpoint)
    details = document["host"]  # type: ignore[index]
    assert details["engine"] == "podman"
    results: list[dict] = document["results"]  # type: ignore[assignment]
    found = {(f["rule"].removeprefix("cis-docker-1.6/"), f["resource"]["name"]): f for f in results}
    host = document["asset"]["name"]  # type: ignore[index]
    status = {key: f["status"] for key, f in found.items()}
    # dockerd's command line, daemon.json and files: not applicable, with the reason
    dockerd = [f"2.{n}" for n in (2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18)]
    system_files = [f"3.{n}" for n in range(1, 25)]
    for check in (*dockerd, *system_files):
        assert status[(check, host)] == "not_applicable", check
        assert found[(check, host)]["evidence"].startswith(PODMAN_NA), check
    # read through the API: assessed as for Docker
    assert status[("2.1", host)] == "info"
    assert status[("2.6", host)] == "pass"  # storage driver vfs
    assert status[("2.17", host)] == "pass"  # seccomp default profile
    assert status[("5.1", host)] == "pass"
    assert {s for (c, _), s in status.items() if c.startswith("7.")} == {"not_applicable"}


def test_podman_container_runtime_checks_assess(podman_endpoint: str) -> None:
    document = _audit(podman_endpoint, "--checks", "4,5")
    got = {
        (f["rule"].removeprefix("cis-docker-1.6/"), f["resource"]["name"]): (
            f["status"],
            f["evidence"],
        )
        for f in document["results"]  # type: ignore[attr-defined]
    }
    want = {
        "4.1": "fail", "5.4": "pass", "5.5": "pass", "5.7": "pass", "5.10": "pass",
        "5.11": "fail", "5.12": "fail", "5.13": "fail", "5.15": "pass", "5.16": "pass",
        "5.19": "pass", "5.22": "pass", "5.26": "fail", "5.27": "fail",
        "5.29": "pass",  # Podman sets pids_limit=2048 by default (Docker: none)
        "5.31": "pass", "5.32": "pass",
    }  # fmt: skip
    assert {check: got[(check, "pc")][0] for check in want} == want
    # processes listed through Podman's top (which takes ps descriptors, not -eo)
    assert got[("5.7", "pc")][1] == "no sshd among 1 processes"
    assert got[("5.10", "pc")][1] == "NetworkMode=none"
    imported = "localhost/seawall-test/imported:1"
    assert got[("4.9", imported)][0] == "pass"
    assert got[("4.6", imported)][0] == "fail"  # no HEALTHCHECK
    # Podman 4.3 fails the history of an image without "created" times: error, not a crash
    archive = "localhost/seawall-test/archive:1"
    status, evidence = got[("4.9", archive)]
    assert status == "error" and evidence.startswith("the daemon refused: "), evidence
