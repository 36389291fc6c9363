"""The control plane judged from the API: the mirror pods a kubeadm cluster lists in
``kube-system`` (tests/fixtures/k8s-node/api/kube-system-pods.json, the wire format of
``GET /api/v1/namespaces/kube-system/pods``) give the same verdicts, check by check, as
``seawall k8s node-audit`` gives on the node those pods run on."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from seawall.hardening.kubernetes.audit import (
    CATALOG,
    NodeAuditOptions,
    audit_node,
    load_checks,
    node_rules,
)
from seawall.hardening.kubernetes.collect import NodeOptions
from seawall.policy.engine import PolicyEngine
from seawall.policy.objects import normalise
from seawall.rules import catalog
from tests.hardening import k8s_nodes

PODS = Path(__file__).parents[1] / "fixtures" / "k8s-node" / "api" / "kube-system-pods.json"
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


def mirror_pods(root: Path) -> list[dict[str, Any]]:
    """The recorded mirror pods with the command lines of the manifests under ``root``
    (what the API server shows once the kubelet has restarted the pods)."""
    listed = json.loads(PODS.read_text())["items"]
    pods = []
    for pod in listed:
        name = pod["metadata"]["labels"]["component"]
        manifest = yaml.safe_load((root / f"etc/kubernetes/manifests/{name}.yaml").read_text())
        changed = copy.deepcopy(pod)
        changed["spec"]["containers"][0]["command"] = manifest["spec"]["containers"][0]["command"]
        pods.append(changed)
    return pods


def policy_verdicts(pods: list[dict[str, Any]]) -> dict[str, str]:
    """CIS id -> fail or warn, from the control-plane policies' findings."""
    findings = PolicyEngine().findings([normalise(p) for p in pods])
    verdicts = {}
    for finding in findings:
        if finding.rule.id.startswith("control-plane-") and finding.status.value != "pass":
            check_id = finding.evidence.split(":", 1)[0].removeprefix("CIS ")
            assert check_id not in verdicts, f"CIS {check_id} judged twice"
            verdicts[check_id] = finding.status.value
    return verdicts


def node_verdicts(root: Path) -> dict[str, str]:
    """The node audit's fail and warn verdicts of the checks that read only flags."""
    flags_only = {i for i, check in load_checks().items() if check.flags_only}
    result = audit_node(NodeAuditOptions(node=NodeOptions(root=root)))
    return {
        f.rule.id: f.status.value
        for f in result.findings
        if f.rule.id in flags_only and f.status.value in ("fail", "warn")
    }


@pytest.mark.parametrize("variant", ["kubeadm", "careless", "hardened"])
def test_the_api_view_agrees_with_the_node_audit(variant: str, tmp_path: Path) -> None:
    tree = k8s_nodes.kubeadm_node(tmp_path)
    if variant != "kubeadm":
        getattr(k8s_nodes, variant)(tree)
    from_api = policy_verdicts(mirror_pods(tree.root))
    on_node = node_verdicts(tree.root)
    if "1.2.1" in on_node:  # CIS leaves anonymous access to people; the policy decides
        on_node["1.2.1"] = "fail"
    assert from_api == on_node
    if variant == "hardened":
        assert from_api == {}
    else:
        assert from_api["1.2.15"] == "fail"


def test_the_recording_as_listed_gives_kubeadms_verdicts_with_evidence() -> None:
    pods = json.loads(PODS.read_text())["items"]
    findings = PolicyEngine().findings([normalise(p) for p in pods], passes=True)
    by_rule = {(f.rule.id, f.resource.name, f.evidence.split(":", 1)[0]): f for f in findings}
    audit = by_rule[("control-plane-audit-logging", "kube-apiserver-cp1", "CIS 1.2.16")]
    assert audit.evidence == (
        "CIS 1.2.16: --audit-log-path is not set (pod kube-system/kube-apiserver-cp1) (want set)"
    )
    assert audit.message == (
        "kube-apiserver: Ensure that the --audit-log-path argument is set (CIS 1.2.16)"
    )
    passed = {(f.rule.id, f.resource.name) for f in findings if f.status.value == "pass"}
    # etcd's flags all hold; the API server's own policies do not apply to the others
    assert passed >= {("control-plane-configuration", "etcd-cp1")}
    assert not any(rule != "control-plane-configuration" and name != "kube-apiserver-cp1"
                   for rule, name in passed if rule.startswith("control-plane-"))  # fmt: skip


@pytest.mark.parametrize(
    ("namespace", "label"),
    [("default", "kube-apiserver"), ("kube-system", None), ("kube-system", "coredns")],
)
def test_only_labelled_kube_system_pods_are_the_control_plane(
    namespace: str, label: str | None
) -> None:
    pod = copy.deepcopy(json.loads(PODS.read_text())["items"][1])  # the API server
    pod["metadata"]["namespace"] = namespace
    labels = pod["metadata"]["labels"]
    labels.pop("component")
    if label:
        labels["component"] = label
    findings = PolicyEngine().findings([normalise(pod)], passes=True)
    assert not [f for f in findings if f.rule.id.startswith("control-plane-")]


def test_every_flags_only_check_is_in_one_control_plane_policy() -> None:
    rules = catalog("k8s")
    cis = catalog(CATALOG)
    flags_only = sorted(i for i, check in load_checks().items() if check.flags_only)
    assert set(flags_only) <= set(node_rules()) and len(flags_only) == 44
    assert all(cis[i].mappings["target"] in ("master", "etcd", "controlplane") for i in flags_only)
    for rule_id in ("control-plane-anonymous-auth", "control-plane-admission-plugins",
                    "control-plane-audit-logging", "control-plane-configuration"):  # fmt: skip
        assert rules[rule_id].mappings["cis-k8s-1.12"]


def test_a_live_scan_keeps_the_mirror_pods_a_node_owns(tmp_path: Path) -> None:
    """Mirror pods carry an ownerReference to their Node (controller: true); unlike a
    Deployment's pods they have no other source in the API, so the listing keeps them."""
    from seawall.policy.cluster import list_cluster
    from tests.policy.apiserver import api_server

    pods = json.loads(PODS.read_text())["items"]
    with api_server(tmp_path) as api:
        for pod in pods:
            api.push("ADDED", pod, "/api/v1/pods", "Pod")
        listed = list(list_cluster(api.kubeconfig, "recorded"))
    mirror = {o.name for o in listed if o.kind == "Pod" and o.namespace == "kube-system"}
    assert mirror == {"etcd-cp1", "kube-apiserver-cp1", "kube-controller-manager-cp1",
                      "kube-scheduler-cp1"}  # fmt: skip
    findings = PolicyEngine().findings(listed)
    assert any(f.rule.id == "control-plane-audit-logging" for f in findings)


@pytest.mark.parametrize(
    "spec", [None, {"containers": "not a list"}, {"containers": []}, {"containers": [7]}]
)
def test_a_malformed_mirror_pod_is_judged_by_nothing_and_breaks_nothing(spec: object) -> None:
    pod = copy.deepcopy(json.loads(PODS.read_text())["items"][1])
    pod["spec"] = spec
    findings = PolicyEngine().findings([normalise(pod)], passes=True)
    assert not [f for f in findings if f.rule.id.startswith("control-plane-")
                and f.status.value != "pass"]  # fmt: skip
