"""Cluster mode against the recorded Kubernetes API (tests/policy/apiserver.py: real HTTP,
the real client) and a real center: posture each round, audit-webhook alerts between."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx

from tests.agent.conftest import PYTHON, Center, free_port, seawall, wait_until
from tests.policy.apiserver import recorded_api

AUDIT = Path(__file__).resolve().parents[1] / "fixtures" / "runtime" / "k8s-audit"


def test_once_reports_the_clusters_posture(center: Center, tmp_path: Path) -> None:
    with recorded_api(tmp_path) as (kubeconfig, _):
        done = seawall("agent", "--once", "--center", center.url, "--token", center.token,
                       "--spool", str(tmp_path / "spool"), "--kubeconfig", str(kubeconfig),
                       "--context", "recorded", "--name", "prod")  # fmt: skip
    assert done.returncode == 0, done.stderr
    clusters = center.get("/api/v1/clusters")["items"]
    assert [c["name"] for c in clusters] == ["prod"]
    workloads = center.get("/api/v1/workloads", limit=500)["items"]
    assert workloads, "the listed workloads are in the center"
    assert center.scan_kinds() == {"k8s-scan": 1}


def test_audit_webhook_alerts_reach_the_center(center: Center, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "agent.log"
    with recorded_api(tmp_path) as (kubeconfig, _), log.open("w") as out:
        agent = subprocess.Popen(
            [*PYTHON, "agent", "--center", center.url, "--token", center.token, "--spool",
             str(tmp_path / "spool"), "--kubeconfig", str(kubeconfig), "--name", "prod",
             "--audit-webhook", f"127.0.0.1:{port}", "--interval", "1h"],
            stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy(),
        )  # fmt: skip
        try:
            assert wait_until(lambda: "watching:" in log.read_text(), timeout=60), log.read_text()
            items = [json.loads(x) for x in (AUDIT / "exec_pod.json").read_text().splitlines()]
            batch = {"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": items}
            reply = httpx.post(f"http://127.0.0.1:{port}/audit", json=batch, timeout=10)
            assert reply.status_code == 200
            alerts = wait_until(center.alerts, timeout=30)
            assert [a["rule"] for a in alerts] == ["runtime/k8s-exec-attach"], alerts
        finally:
            agent.terminate()
            assert agent.wait(60) == 0, log.read_text()
    assert center.scan_kinds()["k8s-scan"] == 1
