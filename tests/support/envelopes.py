"""Real result envelopes for the center's tests, made by the engines themselves: the demo
image's inventory and scan (matched against tests/support/advisorydb.py), a host audit as
the CIS engine returns it, a Kubernetes scan of tests/fixtures/policy/workloads.yaml, and
alerts from the recorded audit events of tests/fixtures/runtime/k8s-audit.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import msgspec

from seawall.contract.envelope import Envelope
from seawall.hardening.benchmark import score
from seawall.hardening.docker.audit import HostAudit
from seawall.hardening.kubernetes.audit import NodeAudit
from seawall.inventory.scan import InventoryOptions, build_inventory
from seawall.model import Finding, Inventory, Resource, Status
from seawall.policy.engine import PolicyEngine
from seawall.policy.manifests import load_manifests, parse_manifests
from seawall.policy.settings import PolicySettings
from seawall.report.envelope.host import host_envelope
from seawall.report.envelope.image import inventory_envelope, scan_envelope
from seawall.report.envelope.kubernetes import cluster_asset, k8s_envelope
from seawall.report.envelope.node import node_envelope
from seawall.report.envelope.runtime import alerts_envelope
from seawall.rules import catalog
from seawall.runtime.alerts import AlertFolder, Detector
from seawall.runtime.badinput import BadInput
from seawall.runtime.replay import replay
from seawall.runtime.rules.loader import load_rules
from seawall.vulndb.scan import ScanOptions, scan_inventory
from seawall.vulndb.store import AdvisoryStore
from tests.support.advisorydb import DEMO_IMAGE

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
WORKLOADS = FIXTURES / "policy" / "workloads.yaml"
K8S_AUDIT = ROOT / "tests" / "fixtures" / "runtime" / "k8s-audit"
DEMO_CONFIG = "sha256:6a7975bd9c80f56440afe80aa59c1552bc16f7533ae0d6ed3e548aedeb2b218e"
DEMO_REFERENCE = "seawall/demo:1.0"


@functools.cache
def demo_inventory() -> Inventory:
    return build_inventory(str(DEMO_IMAGE), InventoryOptions(cache_dir=None), workers=1)


def demo_sbom() -> Envelope:
    return inventory_envelope(demo_inventory())


def demo_scan(advisory_db: Path, inventory: Inventory | None = None) -> Envelope:
    """The demo image matched against ``advisory_db`` (4 findings with the demo records)."""
    store = AdvisoryStore.open(advisory_db)
    try:
        report = scan_inventory(
            inventory or demo_inventory(), store, ScanOptions(), database=store.describe()
        )
    finally:
        store.close()
    return scan_envelope(report)


def without(envelope: Envelope, rules: Sequence[str]) -> Envelope:
    """``envelope`` as if the findings of ``rules`` were fixed (gone from the results)."""
    kept = tuple(r for r in envelope.results if r.rule not in rules)
    return msgspec.structs.replace(envelope, results=kept)


def host_audit(
    name: str = "build-01",
    engine_id: str = "6VQY:YKUR:2TWT:4PXT:WHU4:XKA7:CKGO:RW4U:VRXY:OD3N:CJYO:XDLE",
    containers: Sequence[tuple[str, str, str, bool]] = (
        ("web", DEMO_REFERENCE, DEMO_CONFIG, True),
    ),
    privileged: Sequence[str] = ("web",),
) -> Envelope:
    """A host audit as the CIS engine returns it: real catalog rules; each container
    ``(name, image, image_id, running)`` gets 5.5 (privileged: fail for ``privileged``),
    5.11 (memory limit: fail) and 4.1 (user: pass); the host a failed 2.2 and a passed 2.6."""
    rules = catalog("cis-docker")
    host = Resource(kind="host", name=name)
    findings = [
        Finding(rule=rules["2.2"], status=Status.FAIL, resource=host,
                evidence='daemon.json icc="true"'),
        Finding(rule=rules["2.6"], status=Status.PASS, resource=host, evidence="overlay2"),
    ]  # fmt: skip
    listed = []
    for index, (container, image, image_id, running) in enumerate(containers):
        resource = Resource(kind="container", name=container, id=f"{index:064x}")
        bad = container in privileged
        findings += [
            Finding(rule=rules["5.5"], status=Status.FAIL if bad else Status.PASS,
                    resource=resource, evidence=f"Privileged={str(bad).lower()}"),
            Finding(rule=rules["5.11"], status=Status.FAIL, resource=resource,
                    evidence="Memory=0"),
            Finding(rule=rules["4.1"], status=Status.PASS, resource=resource,
                    evidence="User=app"),
        ]  # fmt: skip
        listed.append(
            {"id": resource.id, "name": container, "image": image, "image_id": image_id,
             "running": running, "labels": {}}
        )  # fmt: skip
    inventory = {
        "endpoint": "unix:///var/run/docker.sock", "engine": "docker", "id": engine_id,
        "name": name, "docker_version": "26.1.5", "api_version": "1.45",
        "containerd_version": "1.7.20", "os": "Debian GNU/Linux 12 (bookworm)",
        "kernel": "6.1.0-25-amd64", "architecture": "x86_64", "images": 3,
        "containers_running": sum(1 for c in containers if c[3]),
        "containers_stopped": sum(1 for c in containers if not c[3]),
        "unmanaged_containers": [c[0] for c in containers], "dockerd_pid": 812,
        "daemon_config_file": "/etc/docker/daemon.json", "containers": listed,
    }  # fmt: skip
    return host_envelope(HostAudit(findings=findings, inventory=inventory, score=score(findings)))


def k8s_scan(name: str = "shop", manifests: str | None = None, uid: str = "") -> Envelope:
    """A scan of ``workloads.yaml`` (or of the ``manifests`` text), passes included."""
    objects = (
        parse_manifests(manifests, "manifests.yaml")
        if manifests is not None
        else load_manifests([str(WORKLOADS)])
    )
    engine = PolicyEngine(PolicySettings())
    return k8s_envelope(cluster_asset(name, uid), objects, engine.findings(objects, passes=True))


def alerts(cluster: str = "minikube") -> Envelope:
    """The alerts of the recorded audit events (eight, of seven rules)."""
    detector = Detector(load_rules([]), AlertFolder(60), {"k8s_audit": {"cluster": cluster}})
    found = replay(sorted(K8S_AUDIT.glob("*.json")), detector, BadInput())
    return alerts_envelope(cluster_asset(cluster), found)


def node_audit(
    name: str = "cp1",
    machine_id: str = "5f1c3a0e9b2d4c6f8a7e1d3b5c9f0a2e",
    cluster: str = "shop",
    failing: Sequence[str] = ("1.2.15", "4.2.1"),
    produced_at: str = "",
) -> Envelope:
    """A control-plane node's CIS Kubernetes audit as the engine returns it: real catalog
    rules; ``failing`` fail, 1.2.6 and 4.1.1 pass, 4.1.3 is not applicable."""
    rules = catalog("cis-k8s")
    node = Resource(kind="Node", name=name)
    findings = [
        Finding(rule=rules[check], status=Status.FAIL, resource=node,
                evidence=f"--{check} (want better)")
        for check in failing
    ] + [
        Finding(rule=rules["1.2.6"], status=Status.PASS, resource=node,
                evidence="--authorization-mode=Node,RBAC (kube-apiserver process 1402)"),
        Finding(rule=rules["4.1.1"], status=Status.PASS, resource=node,
                evidence="/usr/lib/systemd/system/kubelet.service root:root 600"),
        Finding(rule=rules["4.1.3"], status=Status.NOT_APPLICABLE, resource=node,
                evidence="kube-proxy's kubeconfig is not on the node's filesystem"),
    ]  # fmt: skip
    inventory = {
        "name": name, "machine_id": machine_id, "api_server": "https://192.168.49.2:6443",
        "root": "/", "layout": "kubeadm", "layout_evidence": "/etc/kubernetes/manifests exists",
        "role": "control-plane", "role_evidence": "kube-apiserver found",
        "components": {"kube-apiserver": "kube-apiserver process 1402",
                       "kubelet": "kubelet process 812"},
        "kubelet_config": "/var/lib/kubelet/config.yaml", "unreadable": {}, "notes": [],
    }  # fmt: skip
    audit = NodeAudit(findings=findings, inventory=inventory, score=score(findings))
    return node_envelope(audit, cluster=cluster, produced_at=produced_at)


def cluster_scan(name: str = "prod", version: str = "v1.29.4", uid: str = "") -> Envelope:
    """A live cluster's scan as `k8s scan --kubeconfig` makes it: the control plane's mirror
    pods (tests/fixtures/k8s-node/api, kubeadm's) and the checks of the version the API
    server reports (end of life; no advisory database: the vulnerability check warns)."""
    import datetime as dt
    import json

    from seawall.model import Resource
    from seawall.policy.kubeversion import version_findings
    from seawall.policy.objects import normalise

    pods = json.loads((FIXTURES / "k8s-node" / "api" / "kube-system-pods.json").read_text())
    objects = [normalise(pod, "cluster") for pod in pods["items"]]
    findings = PolicyEngine(PolicySettings()).findings(objects, passes=True)
    findings += version_findings(version, Resource(kind="Cluster", name=name),
                                 today=dt.date(2026, 12, 6), advisories=None)  # fmt: skip
    return k8s_envelope(cluster_asset(name, uid), objects, findings)
