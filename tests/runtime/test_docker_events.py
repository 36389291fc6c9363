"""Docker Engine events from the private test engine, through the whole watch pipeline.

A privileged container and a docker.sock mount are created (privileged containers cannot
start here), a shell is exec'd into a running container, and "sshd" (a busybox symlink of
that name) is run. Benign activity in another container must raise nothing.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from seawall.runtime.alerts import AlertFolder, Detector
from seawall.runtime.badinput import BadInput
from seawall.runtime.replay import read_events
from seawall.runtime.sources.docker_events import DockerEventStream, record_line
from seawall.runtime.watch import WatchConfig, build_watcher
from tests.runtime.conftest import builtin_rules
from tests.support.testenv import SeawallTestEnv


@pytest.fixture
def names(docker_client: docker.DockerClient) -> Iterator[dict[str, str]]:
    suffix = uuid.uuid4().hex[:8]
    made = {k: f"sw-rt-{k}-{suffix}" for k in ("priv", "sock", "shell", "sshd", "benign", "health")}
    yield made
    for name in made.values():
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.containers.get(name).remove(force=True)


def act(client: docker.DockerClient, image: str, names: dict[str, str]) -> None:
    client.containers.create(image, ["sleep", "1"], name=names["priv"], privileged=True)
    client.containers.create(
        image,
        ["sleep", "1"],
        name=names["sock"],
        volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "ro"}},
    )
    shell = client.containers.run(
        image, ["sleep", "60"], name=names["shell"], detach=True, network_mode="none"
    )
    shell.exec_run(["sh", "-c", "echo hello"])
    client.containers.run(
        image, ["/usr/sbin/sshd", "-D"], name=names["sshd"], detach=True, network_mode="none"
    )
    benign = client.containers.run(
        image, ["sleep", "60"], name=names["benign"], detach=True, network_mode="none"
    )
    benign.exec_run(["ls", "/"])
    benign.exec_run(["cat", "/etc/hostname"])
    # The engine execs health checks (/bin/sh -c true) every second: not a shell to report.
    client.containers.run(
        image, ["sleep", "60"], name=names["health"], detach=True, network_mode="none",
        healthcheck={"test": ["CMD-SHELL", "true"], "interval": 1_000_000_000},
    )  # fmt: skip


EXPECTED = {
    ("docker-privileged-container", "priv"),
    ("docker-sensitive-mount", "sock"),
    ("docker-shell-exec", "shell"),
    ("docker-ssh-server", "sshd"),
}


def test_watch_raises_docker_alerts_with_evidence(
    testenv: SeawallTestEnv,
    docker_client: docker.DockerClient,
    shell_image: str,
    names: dict[str, str],
    tmp_path: Path,
) -> None:
    # Activity before the watcher starts must not be alerted.
    early = docker_client.containers.create(shell_image, ["sleep", "1"], privileged=True)
    out = tmp_path / "alerts.jsonl"
    dump = tmp_path / "docker.jsonl"
    config = WatchConfig(
        docker=True, docker_host=testenv.docker_host, auditd_logs=[], output=out, record_docker=dump
    )
    watcher = build_watcher(builtin_rules(), config)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.5)
        act(docker_client, shell_image, names)
        wanted = {(rule, names[key]) for rule, key in EXPECTED}
        deadline = time.time() + 60
        seen: set[tuple[str, str]] = set()
        while time.time() < deadline and not wanted <= seen:
            time.sleep(0.5)
            records = [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []
            seen = {(r["rule"].removeprefix("runtime/"), r["resource"]["name"]) for r in records}
    finally:
        watcher.stop()
        thread.join(10)
        early.remove(force=True)
    assert wanted <= seen, seen
    assert not any(name in (names["benign"], names["health"]) for _, name in seen)
    assert not any(name == early.name for _, name in seen)
    records = [json.loads(x) for x in out.read_text().splitlines()]
    priv = next(r for r in records if r["rule"] == "runtime/docker-privileged-container")
    assert priv["evidence"]["container.privileged"] == "true"
    assert priv["evidence"]["container.image"] == shell_image
    assert priv["resource"]["kind"] == "container" and len(priv["resource"]["id"]) == 64
    sock = next(r for r in records if r["rule"] == "runtime/docker-sensitive-mount")
    assert "/var/run/docker.sock" in sock["evidence"]["container.mounts"]
    shell = next(r for r in records if r["rule"] == "runtime/docker-shell-exec")
    assert shell["evidence"]["proc.cmdline"] == "sh -c echo hello"
    sshd = next(r for r in records if r["rule"] == "runtime/docker-ssh-server")
    assert sshd["evidence"]["proc.name"] == "sshd"
    assert sshd["tactic"] == "Execution"
    # The recorded dump replays to the same alerts (inspection included).
    detector = Detector(builtin_rules(), AlertFolder(60))
    for event in read_events(dump, BadInput()):
        detector.process(event)
    replayed = {(a.rule.id, a.resource.name) for a in detector.folder.drain()}
    assert replayed == seen


def test_recorded_docker_events_replay_to_the_same_alerts(
    docker_client: docker.DockerClient, shell_image: str, names: dict[str, str], tmp_path: Path
) -> None:
    stream = DockerEventStream(docker_client)
    events = []
    start = time.time()

    def collect() -> None:
        for event in stream.events(start - 1):
            events.append(event)

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    act(docker_client, shell_image, names)
    deadline = time.time() + 30
    while time.time() < deadline and not any(
        e.key[1] == "exec_start" and names["health"] in str(e.raw) for e in events
    ):
        time.sleep(0.3)
    time.sleep(1)
    stream.stop()
    mine = [e for e in events if any(n in json.dumps(e.raw) for n in names.values())]
    health = [e for e in mine if names["health"] in json.dumps(e.raw) and e.key[1] == "exec_start"]
    assert health, "the engine reported no health check execs"
    dump = tmp_path / "docker-events.jsonl"
    dump.write_bytes(b"\n".join(record_line(e) for e in mine) + b"\n")
    detector = Detector(builtin_rules(), AlertFolder(60))
    for event in read_events(dump, BadInput()):
        detector.process(event)
    got = {(a.rule.id, a.resource.name) for a in detector.folder.drain()}
    assert got == {(rule, names[key]) for rule, key in EXPECTED}
