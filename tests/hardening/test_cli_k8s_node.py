"""``seawall k8s node-audit`` as a user runs it: formats, -o, --fail-on, --role, --checks and
exit codes, on the careless and hardened kubeadm nodes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from seawall.contract import decode
from tests.hardening import k8s_nodes


def seawall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "seawall", "k8s", "node-audit", *args],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.fixture(scope="module")
def careless(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return k8s_nodes.careless(k8s_nodes.kubeadm_node(tmp_path_factory.mktemp("careless"))).root


@pytest.fixture(scope="module")
def hardened(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return k8s_nodes.hardened(k8s_nodes.kubeadm_node(tmp_path_factory.mktemp("hardened"))).root


def test_the_table_names_the_node_and_groups_by_section(careless: Path) -> None:
    result = seawall("--root", str(careless))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "layout: kubeadm (/etc/kubernetes/manifests exists)" in out
    assert "kube-apiserver: kube-apiserver process 1402" in out
    for section in ("1.1 Control Plane Node Configuration Files", "1.2 API Server",
                    "2 Etcd Node Configuration", "4.2 Kubelet"):  # fmt: skip
        assert section in out
    assert "Score: " in out


def test_json_is_a_node_audit_envelope(careless: Path, tmp_path: Path) -> None:
    out = tmp_path / "node.json"
    result = seawall("--root", str(careless), "-f", "json", "-o", str(out), "--cluster", "shop")
    assert result.returncode == 0, result.stderr
    envelope = decode(out.read_bytes())
    assert envelope.kind == "node-audit" and envelope.asset.type == "node"
    assert envelope.asset.name == "cp1-public"  # the kubelet's --hostname-override
    assert envelope.asset.attributes == {"cluster": "shop", "layout": "kubeadm",
                                         "role": "control-plane"}  # fmt: skip
    assert envelope.node is not None and envelope.node.benchmark == "cis-1.12"
    assert envelope.node.api_server == "https://192.168.49.2:6443"
    assert len(envelope.results) == 97
    failed = {r.rule for r in envelope.results if r.status == "fail"}
    assert "cis-k8s-1.12/1.2.6" in failed and "cis-k8s-1.12/4.2.1" in failed


def test_sarif_and_junit(careless: Path, tmp_path: Path) -> None:
    sarif = seawall("--root", str(careless), "-f", "sarif", "--checks", "1.2")
    assert sarif.returncode == 0, sarif.stderr
    rules = {r["ruleId"] for r in json.loads(sarif.stdout)["runs"][0]["results"]}
    assert "1.2.6" in rules and not any(r.startswith("4.") for r in rules)
    junit = seawall("--root", str(careless), "-f", "junit", "--skip", "1,2,3")
    assert junit.returncode == 0, junit.stderr
    suite = ElementTree.fromstring(junit.stdout)
    ids = {case.get("classname", "") for case in suite.iter("testcase")}
    assert len(ids) == 25 and all(check.startswith("4.") for check in ids)


def test_fail_on_gates_the_careless_node_and_passes_the_hardened(
    careless: Path, hardened: Path
) -> None:
    assert seawall("--root", str(careless), "--fail-on", "high").returncode == 1
    assert seawall("--root", str(hardened), "--fail-on", "low").returncode == 0


def test_bad_options_are_clear_errors(tmp_path: Path, careless: Path) -> None:
    missing = seawall("--root", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "is not a directory" in missing.stderr
    unknown = seawall("--root", str(careless), "--benchmark", "cis-9.9")
    assert unknown.returncode == 2 and "cis-1.12" in unknown.stderr
    section = seawall("--root", str(careless), "--checks", "9")
    assert section.returncode == 2 and "no CIS check or section '9'" in section.stderr
    empty = seawall("--root", str(tmp_path), "--checks", "4.1.1")
    assert empty.returncode == 3 and "nothing could be assessed" in empty.stderr
