"""``seawall agent`` left running: Docker events become alerts in the center as they happen,
the center goes away and comes back, and everything made in between arrives, once."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path

import docker

from tests.agent.conftest import Center, RunAgent, StartAgent, wait_until

ENVELOPE = "[0-9]" * 20 + "-*.json"
MADE = re.compile(
    r"(host audit|inventory of \S+|\d+ alert\(s\)) \[([0-9a-f]{12})\] (?:delivered|spooled)"
)


def kind_of(what: str) -> str:
    if what == "host audit":
        return "host-audit"
    return "inventory" if what.startswith("inventory") else "alerts"


def made_by(log: str) -> dict[str, list[str]]:
    """The envelopes the agent made, by kind, by the key prefix its log shows."""
    made: dict[str, list[str]] = {}
    for what, key in MADE.findall(log):
        made.setdefault(kind_of(what), []).append(key)
    return made


def test_center_away_and_back_everything_arrives_once(
    center: Center,
    start_agent: StartAgent,
    run_agent: RunAgent,
    docker_client: docker.DockerClient,
    shell_image: str,
    containers: list[str],
    tmp_path: Path,
) -> None:
    suffix = uuid.uuid4().hex[:8]
    shell_name, privileged_name = f"sw-agent-shell-{suffix}", f"sw-agent-priv-{suffix}"
    containers += [shell_name, privileged_name]
    spool = tmp_path / "spool"
    agent = start_agent("--center", center.url, "--token", center.token, "--spool", str(spool),
                        "--interval", "3s", "--name", "long")  # fmt: skip
    agent.wait_for("watching: Docker Engine events")
    shell = docker_client.containers.run(
        shell_image, ["sleep", "300"], name=shell_name, detach=True, network_mode="none"
    )
    shell.exec_run(["sh", "-c", "echo hello"])
    assert wait_until(center.alerts, timeout=30), agent.output()[-3000:]
    agent.wait_for("inventory of")

    center.stop()
    docker_client.containers.create(
        shell_image, ["sleep", "1"], name=privileged_name, privileged=True
    )
    shell.exec_run(["sh", "-c", "id"])

    def waiting() -> list[Path]:
        files = sorted(spool.glob(ENVELOPE))
        kinds = {json.loads(f.read_bytes())["kind"] for f in files}
        return files if {"host-audit", "alerts"} <= kinds and len(files) >= 3 else []

    assert wait_until(waiting, timeout=60), agent.output()[-3000:]
    copies = tmp_path / "copies"
    copies.mkdir()
    for path in waiting():
        shutil.copy2(path, copies / path.name)

    center.start()
    assert wait_until(lambda: not list(spool.glob(ENVELOPE)), timeout=60), agent.output()[-3000:]
    assert agent.terminate() == 0, agent.output()[-3000:]
    log = agent.output()
    assert "center" in log and "answers again" in log
    assert "Traceback" not in log

    made = made_by(log)
    left: dict[str, int] = {}  # flushed to the spool at shutdown
    for path in spool.glob(ENVELOPE):
        kind = json.loads(path.read_bytes())["kind"]
        left[kind] = left.get(kind, 0) + 1
    for keys in made.values():
        assert len(keys) == len(set(keys)), "every envelope is made once"
    kinds = center.scan_kinds()
    for kind in ("host-audit", "inventory", "alerts"):
        assert kinds.get(kind, 0) == len(made[kind]) - left.get(kind, 0), (kind, kinds, made)
    alerts = center.alerts()
    about = json.dumps(alerts)
    assert privileged_name in about, "the alert raised while the center was away arrived"
    assert shell_name in about

    # An envelope delivered, then found in the spool again (its answer lost): stored once.
    before = center.scan_kinds()
    for path in copies.iterdir():
        shutil.copy2(path, spool / path.name)
    again = run_agent("--center", center.url, "--token", center.token, "--spool", str(spool),
                      "--no-images")  # fmt: skip
    assert again.returncode == 0, again.stderr
    after = center.scan_kinds()
    assert after["host-audit"] == before["host-audit"] + 1 + left.get("host-audit", 0)
    assert after["alerts"] == before["alerts"] + left.get("alerts", 0)
    assert not list(spool.glob(ENVELOPE))
