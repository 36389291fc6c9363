"""``seawall host audit`` as a user runs it: formats, -o, --fail-on and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import docker

from seawall.contract import decode
from tests.hardening.conftest import AuditedHost
from tests.hardening.test_host_audit import CARELESS


def seawall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "seawall", "host", "audit", *args],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_table_grouped_by_section_with_score(careless_host: AuditedHost) -> None:
    result = seawall("-H", careless_host.endpoint, "--include-stopped")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for section in ("1 Host Configuration", "5 Container Runtime", "7 Docker Swarm"):
        assert section in out
    assert "Score: " in out and "% of scored checks pass" in out
    assert "docker_version: 20.10" in out
    assert "containers not managed by an orchestrator: 4" in out


def test_json_sarif_junit(careless_host: AuditedHost, tmp_path: Path) -> None:
    out = tmp_path / "report"
    for fmt in ("json", "sarif", "junit"):
        result = seawall("-H", careless_host.endpoint, "-f", fmt, "-o", str(out), "--checks", "5")
        assert result.returncode == 0, result.stderr
        text = out.read_text()
        if fmt == "json":
            document = json.loads(text)
            envelope = decode(text.encode())
            assert envelope.kind == "host-audit" and envelope.host is not None
            assert envelope.host.engine == "docker"
            assert document["asset"]["type"] == "host"
            engine = docker.DockerClient(base_url=careless_host.endpoint)
            assert document["asset"]["id"] == engine.info()["ID"] != ""
            assert {r["rule"] for r in document["results"]} >= {
                "cis-docker-1.6/5.4",
                "cis-docker-1.6/5.32",
            }
            # the (running) containers and the images they run, for the center's inventory
            containers = {c.name: c for c in envelope.host.containers}
            running = {"wild", "ssh"}  # the careless engine's running containers
            assert set(containers) == running and set(CARELESS) >= running
            assert all(c.image_id.startswith("sha256:") for c in containers.values())
        elif fmt == "sarif":
            run = json.loads(text)["runs"][0]
            assert any(r["ruleId"] == "5.10" and r["kind"] == "fail" for r in run["results"])
        else:
            suite = ElementTree.fromstring(text).find("testsuite")
            assert suite is not None and int(suite.get("failures", "0")) > 0


def test_fail_on(careless_host: AuditedHost, hardened_host: AuditedHost) -> None:
    assert seawall("-H", careless_host.endpoint, "--fail-on", "high").returncode == 1
    hardened = seawall("-H", hardened_host.endpoint, "--checks", "5", "--fail-on", "high")
    assert hardened.returncode == 0, hardened.stdout
    assert seawall("-H", careless_host.endpoint, "--fail-on", "bogus").returncode == 2


def test_exit_3_only_when_nothing_could_be_assessed(tmp_path: Path) -> None:
    endpoint = f"unix://{tmp_path}/none.sock"
    nothing = seawall("-H", endpoint, "--checks", "2.6,5")
    assert nothing.returncode == 3
    assert nothing.stderr.startswith("error: nothing could be assessed")
    assert "Traceback" not in nothing.stderr
    partly = seawall("-H", endpoint)
    assert partly.returncode == 0, partly.stderr
    assert "error" in partly.stdout


def test_permission_denied_on_the_socket(careless_host: AuditedHost) -> None:
    # The socket is root:root 660: user nobody may not use it.
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m",
         "seawall", "host", "audit", "-H", careless_host.endpoint, "-f", "json"],
        capture_output=True, text=True, timeout=120, cwd="/",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)["results"]
    errors = [r for r in results if r["rule"] == "cis-docker-1.6/2.6"]
    assert errors[0]["status"] == "error"
    assert "Permission denied" in errors[0]["evidence"]


def test_unknown_check_is_a_usage_error(careless_host: AuditedHost) -> None:
    result = seawall("-H", careless_host.endpoint, "--checks", "8.1")
    assert result.returncode == 2
    assert "no CIS check or section '8.1'" in result.stderr
