"""The cluster listing, on the real lightkube client, against recorded API responses: the
same verdicts as the manifests the cluster was deployed from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from seawall.errors import EnvironmentFailure, InputError
from seawall.policy.cluster import list_cluster
from seawall.policy.manifests import load_manifests
from tests.policy.apiserver import recorded_api
from tests.policy.support import FIXTURES, fixture_engine

WORKLOADS = FIXTURES / "workloads.yaml"


def verdicts(objects: list) -> set[tuple[str, str, str, str, str, str]]:
    engine = fixture_engine()
    return {
        (
            f.resource.kind,
            f.resource.namespace,
            f.resource.name,
            f.rule.id,
            f.status.value,
            f.evidence,
        )
        for f in engine.findings(objects)
    }


def test_cluster_listing_gives_the_same_verdicts_as_the_manifests(tmp_path: Path) -> None:
    with recorded_api(tmp_path) as (kubeconfig, requests):
        listed = list(list_cluster(kubeconfig, "recorded"))
    assert "/apis/apps/v1/deployments?limit=500" in requests
    from_manifests = verdicts(load_manifests([str(WORKLOADS)]))
    assert from_manifests  # the fixture is not clean
    assert verdicts(listed) == from_manifests


def test_owned_objects_are_left_to_their_controller(tmp_path: Path) -> None:
    with recorded_api(tmp_path) as (kubeconfig, _):
        default = {(o.kind, o.name) for o in list_cluster(kubeconfig)}
        everything = {(o.kind, o.name) for o in list_cluster(kubeconfig, include_owned=True)}
    assert ("Pod", "web-5d8f7c9b4-x7k2p") not in default
    assert {("Pod", "web-5d8f7c9b4-x7k2p"), ("ReplicaSet", "web-5d8f7c9b4")} <= everything


def test_rejected_credentials_are_an_environment_failure(tmp_path: Path) -> None:
    with (
        recorded_api(tmp_path, token="wrong") as (kubeconfig, _),
        pytest.raises(EnvironmentFailure, match="Unauthorized"),
    ):
        list(list_cluster(kubeconfig))


def test_unreachable_server_and_bad_context(tmp_path: Path) -> None:
    with recorded_api(tmp_path) as (kubeconfig, _):
        text = kubeconfig.read_text()
    with pytest.raises(EnvironmentFailure, match="unreachable"):
        list(list_cluster(kubeconfig))  # the server has stopped
    (tmp_path / "kc2").write_text(text)
    with pytest.raises(InputError, match="kubeconfig"):
        list(list_cluster(tmp_path / "kc2", "no-such-context"))


def test_scan_command_on_a_cluster(tmp_path: Path) -> None:
    with recorded_api(tmp_path) as (kubeconfig, _):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "seawall",
                "k8s",
                "scan",
                "--kubeconfig",
                str(kubeconfig),
                "--context",
                "recorded",
                "-f",
                "json",
                "--fail-on",
                "critical",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["kind"] == "k8s-scan"
    results = report["results"]
    failed = {(r["resource"]["name"], r["rule"]) for r in results if r["status"] == "fail"}
    assert ("log-agent", "k8s/pss-baseline-privileged") in failed
    assert ("ci-deployer", "k8s/rbac-cluster-admin-binding") in failed
    # the cluster is known by its kube-system namespace's UID
    assert report["asset"]["id"] == "5f0c2d9e-8a41-4a57-9d8e-2b7c1e3f4a60"
    assert report["asset"]["name"] == "recorded"


def test_a_deeply_nested_api_answer_is_not_a_crash() -> None:
    from seawall.policy.kubeapi import _failure
    from tests.support.hostile import deep_json

    failure = _failure(500, deep_json())
    assert failure.code == 500 and failure.reason == "Error"
