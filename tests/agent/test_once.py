"""``seawall agent --once`` against the private Docker Engine and a real center."""

from __future__ import annotations

import docker

from tests.agent.conftest import Center, RunAgent


def test_once_reports_the_host_and_the_images_it_runs(
    center: Center,
    run_agent: RunAgent,
    docker_client: docker.DockerClient,
    shell_image: str,
    containers: list[str],
    tmp_path,
) -> None:
    name = f"sw-agent-{tmp_path.name[-8:]}"
    containers.append(name)
    docker_client.containers.run(
        shell_image, ["sleep", "300"], name=name, detach=True, network_mode="none"
    )
    spool = tmp_path / "spool"
    done = run_agent("--center", center.url, "--token", center.token, "--spool", str(spool),
                     "--name", "agent-host")  # fmt: skip
    assert done.returncode == 0, done.stderr
    hosts = center.get("/api/v1/hosts")["items"]
    assert [h["name"] for h in hosts] == ["agent-host"]
    detail = center.get(f"/api/v1/hosts/{hosts[0]['id']}")
    assert name in [c["name"] for c in detail["containers_list"]]
    assert detail["score_percent"] is not None
    findings = center.get("/api/v1/findings", state="all", limit=500)["items"]
    assert any(f["rule"].startswith("cis-docker-1.6/") for f in findings)
    kinds = center.scan_kinds()
    assert kinds["host-audit"] == 1 and kinds["inventory"] == 1, kinds
    images = center.get("/api/v1/images")["items"]
    assert any(shell_image in str(i) for i in images), images
    assert not list(spool.glob("*-*.json")), "everything was delivered"
