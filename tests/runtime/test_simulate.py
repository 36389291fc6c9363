"""``seawall runtime simulate`` raises every alert family against a real Docker Engine."""

from __future__ import annotations

import subprocess
import sys

import docker

from seawall.runtime.simulate import LABEL, run_simulation
from tests.support.testenv import SeawallTestEnv


def test_simulation_without_docker_covers_audit_and_host_families() -> None:
    alerts, families = run_simulation("", "", with_docker=False)
    assert families and all(families.values()), families
    assert any(f.startswith("k8s-") for f in families) and any(
        f.startswith("host-") for f in families
    )
    assert {a.source for a in alerts} == {"k8s_audit", "auditd"}


def test_simulation_with_docker_and_cleanup(
    testenv: SeawallTestEnv, docker_client: docker.DockerClient, shell_image: str
) -> None:
    _alerts, families = run_simulation(testenv.docker_host, shell_image, settle=3.0)
    missing = [f for f, fired in families.items() if not fired]
    assert missing == []
    assert any(f.startswith("docker-") for f in families)
    assert docker_client.containers.list(all=True, filters={"label": LABEL}) == []


def simulate(docker_host: str, image: str) -> subprocess.CompletedProcess[str]:
    command = ["runtime", "simulate", "--docker-host", docker_host, "--image", image]
    return subprocess.run(
        [sys.executable, "-m", "seawall", *command], capture_output=True, text=True, timeout=300
    )


def test_simulate_command_reports_families(testenv: SeawallTestEnv, shell_image: str) -> None:
    result = simulate(testenv.docker_host, shell_image)
    assert result.returncode == 0, result.stderr
    assert "docker-ssh-server ok" in result.stderr and "MISSING" not in result.stderr
    assert "docker-privileged-container" in result.stdout


def test_simulate_with_a_missing_image_is_a_clear_error(testenv: SeawallTestEnv) -> None:
    result = simulate(testenv.docker_host, "seawall-test/does-not-exist:1")
    assert result.returncode == 3
    assert "not in the local engine" in result.stderr and "Traceback" not in result.stderr
