"""``seawall agent --once`` on a Kubernetes node (a kubeadm control-plane node's filesystem
at --root, tests/fixtures/k8s-node): besides the Docker host audit, it reports the node's
CIS Kubernetes audit, which the center files under the node's cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.conftest import Center, RunAgent
from tests.hardening import k8s_nodes


@pytest.fixture()
def own_center(tmp_path: Path, advisories: Path) -> Iterator[Center]:
    """A center of its own: the session's center counts the hosts other tests report."""
    base = tmp_path / "center"
    base.mkdir()
    made = Center(base, advisories)
    made.start()
    made.token = made.create_token()
    try:
        yield made
    finally:
        made.stop()


def test_the_agent_reports_a_kubernetes_nodes_audit_under_its_cluster(
    own_center: Center, run_agent: RunAgent, tmp_path: Path
) -> None:
    node = k8s_nodes.careless(k8s_nodes.kubeadm_node(tmp_path / "node"))
    done = run_agent("--center", own_center.url, "--token", own_center.token,
                     "--spool", str(tmp_path / "spool"), "--name", "cp1", "--root",
                     str(node.root), "--cluster", "shop", "--no-images", "--no-events")  # fmt: skip
    assert done.returncode == 0, done.stderr
    kinds = own_center.scan_kinds()
    assert kinds["node-audit"] == 1 and kinds["host-audit"] == 1, kinds
    nodes = own_center.get("/api/v1/nodes")["items"]
    assert [(n["name"], n["cluster"], n["role"], n["layout"]) for n in nodes] == [
        ("cp1", "shop", "control-plane", "kubeadm")
    ]
    assert nodes[0]["healthy"] is False and nodes[0]["score_percent"] < 40
    findings = own_center.get("/api/v1/findings", limit=500)["items"]
    assert "cis-k8s-1.12/1.2.6" in {f["rule"] for f in findings}


def test_off_and_on_a_host_that_is_not_a_node(
    own_center: Center, run_agent: RunAgent, tmp_path: Path
) -> None:
    node = k8s_nodes.kubeadm_node(tmp_path / "node")
    common = ("--center", own_center.url, "--token", own_center.token, "--no-images",
              "--no-events")  # fmt: skip
    off = run_agent(*common, "--spool", str(tmp_path / "s1"), "--root", str(node.root),
                    "--node-audit", "off")  # fmt: skip
    assert off.returncode == 0, off.stderr
    plain = tmp_path / "plain"  # no Kubernetes files: auto finds no node
    (plain / "etc").mkdir(parents=True)
    auto = run_agent(*common, "--spool", str(tmp_path / "s2"), "--root", str(plain))
    assert auto.returncode == 0, auto.stderr
    assert "node-audit" not in own_center.scan_kinds()
