"""The CIS Kubernetes Benchmark on node filesystems laid out as kubeadm, a kubeadm worker,
EKS, a k3s server and a k3s agent lay them out (tests/fixtures/k8s-node, built by
k8s_nodes.py): every check's status on each layout, with the evidence that decided it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from seawall.hardening.kubernetes.audit import NodeAudit, NodeAuditOptions, audit_node, node_rules
from seawall.hardening.kubernetes.collect import NodeOptions
from seawall.hardening.kubernetes.facts import Role
from seawall.model import Status
from seawall.rules import catalog
from tests.hardening import k8s_nodes
from tests.hardening.k8s_nodes import NodeTree

# kubeadm as installed: what kube-bench also reports on a fresh kubeadm cluster (no audit
# log, profiling on, no encryption at rest, world-readable kubelet files) and no more.
KUBEADM = {
    "warn": ["1.1.9", "1.2.1", "1.2.3", "1.2.9", "1.2.11", "1.2.27", "1.2.28", "1.2.29", "1.3.1",
             "3.2.1", "3.2.2", "4.2.9", "4.2.12", "4.2.13", "4.2.14"],
    "fail": ["1.1.12", "1.2.5", "1.2.15", "1.2.16", "1.2.17", "1.2.18", "1.2.19", "1.2.30",
             "1.3.2", "1.4.1", "4.1.1", "4.1.9"],
    "manual": ["1.2.20", "3.1.1", "3.1.2", "3.1.3"],
    "not_applicable": ["4.1.3", "4.1.4"],  # kube-proxy's kubeconfig is in its pod
}  # fmt: skip
HARDENED = {
    "manual": ["1.2.20", "3.1.1", "3.1.2", "3.1.3"],
    "not_applicable": ["4.1.3", "4.1.4"],
}
CARELESS = {
    "fail": ["1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.11",
             "1.1.12", "1.1.13", "1.1.14", "1.1.15", "1.1.16", "1.1.17", "1.1.18", "1.1.19",
             "1.2.2", "1.2.4", "1.2.5", "1.2.6", "1.2.7", "1.2.8", "1.2.10", "1.2.12", "1.2.13",
             "1.2.14", "1.2.15", "1.2.17", "1.2.18", "1.2.19", "1.2.21", "1.2.23", "1.2.24",
             "1.2.25", "1.2.26", "1.2.30", "1.3.2", "1.3.3", "1.3.4", "1.3.5", "1.3.6", "1.3.7",
             "1.4.1", "1.4.2", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "4.1.1", "4.1.2",
             "4.1.5", "4.1.6", "4.1.9", "4.1.10", "4.2.1", "4.2.2", "4.2.3", "4.2.6", "4.2.10",
             "4.3.1"],
    "warn": ["1.1.9", "1.1.10", "1.1.20", "1.1.21", "1.2.1", "1.2.3", "1.2.9", "1.2.11", "1.2.28",
             "1.2.29", "1.3.1", "3.2.1", "3.2.2", "4.1.7", "4.2.4", "4.2.5", "4.2.7", "4.2.9",
             "4.2.11", "4.2.12", "4.2.13", "4.2.14"],
    "manual": ["1.2.20", "3.1.1", "3.1.2", "3.1.3"],
    "not_applicable": ["4.1.3", "4.1.4"],
}  # fmt: skip


def control_plane_not_applicable(*keep: str) -> dict[str, list[str]]:
    """Every check of sections 1-3 but ``keep``: what a node without a control plane shows."""
    return {"not_applicable": [i for i in node_rules() if i[0] in "123" and i not in keep]}


WORKER = {
    "not_applicable": [*control_plane_not_applicable("1.1.9", "1.1.10")["not_applicable"],
                       "4.1.3", "4.1.4"],
    "warn": ["1.1.9", "4.2.9", "4.2.12", "4.2.13", "4.2.14"],
    "fail": ["4.1.1", "4.1.9"],
}  # fmt: skip
EKS = {
    "not_applicable": [*control_plane_not_applicable()["not_applicable"], "4.1.3", "4.1.4"],
    # EKS leaves rotateCertificates unset, lets kube-proxy's metrics listen everywhere,
    # overrides the hostname and allows two RSA key-exchange ciphers
    "fail": ["4.1.1", "4.1.9", "4.2.10", "4.3.1"],
    "warn": ["4.2.7", "4.2.12", "4.2.14"],
}  # fmt: skip
# k3s as installed (SQLite datastore): what k3s passes its components by default
# (pkg/daemons/control/server.go, pkg/daemons/agent) is mostly what the benchmark asks:
# anonymous auth off, Node,RBAC, NodeRestriction, profiling off, loopback bind addresses,
# the kubelet's Webhook authorization, client CA, serving certificate and read-only port 0.
# What it leaves to the administrator: audit logging, encryption at rest
# (--secrets-encryption), the admission plugins and cipher suites people choose, the
# pod GC threshold, token expiration; the kubelet's certificate rotation, PID limit and
# seccomp default. k3s always names the node (--hostname-override, for review); kine serves
# the API server on a local socket without TLS (no --etcd-* files); k3s.service is 644; no
# etcd, no static pod manifests, no CNI files yet.
K3S_NO_FILES = [*(f"1.1.{n}" for n in range(1, 11))]
K3S = {
    "not_applicable": [*K3S_NO_FILES, "1.1.11", "1.1.12", *(f"2.{n}" for n in range(1, 8))],
    "fail": ["1.2.16", "1.2.17", "1.2.18", "1.2.19", "1.2.23", "1.2.26", "1.2.30", "4.1.1",
             "4.2.10"],
    "warn": ["1.2.3", "1.2.9", "1.2.11", "1.2.27", "1.2.28", "1.2.29", "1.3.1", "3.2.1", "3.2.2",
             "4.2.7", "4.2.12", "4.2.13", "4.2.14"],
    "manual": ["1.2.20", "3.1.1", "3.1.2", "3.1.3"],
}  # fmt: skip
# k3s after its hardening guide (config.yaml, a drop-in asking for embedded etcd, a
# kubelet config k3s copies into its drop-ins): every flag check passes; k3s runs etcd as
# root, so its data directory is root's (1.1.12), and it still names the node (4.2.7).
K3S_HARDENED = {
    "not_applicable": K3S_NO_FILES,
    "fail": ["1.1.12"],
    "warn": ["4.2.7"],
    "manual": ["1.2.20", "3.1.1", "3.1.2", "3.1.3"],
}
# k3s after careless hands: config.yaml turns anonymous access and profiling on, opens the
# kubelet's read-only port, binds the controller manager and kube-proxy's metrics
# everywhere; a drop-in appends anonymous access and AlwaysAllow to the kubelet's flags and
# binds the scheduler everywhere; the command line appends AlwaysAdmit and turns the
# scheduler's profiling on; k3s.yaml is written 644 (write-kubeconfig-mode).
K3S_CARELESS = {
    "not_applicable": K3S["not_applicable"],
    "fail": [*K3S["fail"], "1.1.13", "1.2.10", "1.2.15", "1.3.2", "1.3.7", "1.4.1", "1.4.2",
             "4.2.1", "4.2.2", "4.3.1"],
    "warn": [*K3S["warn"], "1.2.1", "4.2.4"],
    "manual": K3S["manual"],
}  # fmt: skip
# a k3s agent: the kubelet and kube-proxy only, with k3s's defaults; its unit is
# k3s-agent.service, as k3s's install script writes it (mode 644)
K3S_AGENT = {
    "not_applicable": control_plane_not_applicable()["not_applicable"],
    "fail": ["4.1.1", "4.2.10"],
    "warn": ["4.2.7", "4.2.12", "4.2.13", "4.2.14"],
}


def audit(tree: NodeTree, role: Role = Role.AUTO) -> NodeAudit:
    return audit_node(NodeAuditOptions(node=NodeOptions(root=tree.root, role=role)))


def statuses(result: NodeAudit) -> dict[str, str]:
    found: dict[str, str] = {}
    for finding in result.findings:
        assert finding.rule.id not in found, f"{finding.rule.id} reported twice"
        found[finding.rule.id] = finding.status.value
    return found


def expected(not_passing: dict[str, list[str]]) -> dict[str, str]:
    want = dict.fromkeys(node_rules(), "pass")
    for status, ids in not_passing.items():
        for check_id in ids:
            assert want[check_id] == "pass", f"{check_id} listed twice"
            want[check_id] = status
    return want


def evidence(result: NodeAudit, check_id: str) -> str:
    return next(f.evidence for f in result.findings if f.rule.id == check_id)


Layout = Callable[[Path], NodeTree]
LAYOUTS: dict[str, tuple[Layout, dict[str, list[str]]]] = {
    "kubeadm": (k8s_nodes.kubeadm_node, KUBEADM),
    "kubeadm-hardened": (lambda d: k8s_nodes.hardened(k8s_nodes.kubeadm_node(d)), HARDENED),
    "kubeadm-careless": (lambda d: k8s_nodes.careless(k8s_nodes.kubeadm_node(d)), CARELESS),
    "kubeadm-worker": (lambda d: k8s_nodes.worker(k8s_nodes.kubeadm_node(d)), WORKER),
    "eks": (k8s_nodes.eks_node, EKS),
    "k3s": (k8s_nodes.k3s_node, K3S),
    "k3s-hardened": (lambda d: k8s_nodes.k3s_hardened(k8s_nodes.k3s_node(d)), K3S_HARDENED),
    "k3s-careless": (lambda d: k8s_nodes.k3s_careless(k8s_nodes.k3s_node(d)), K3S_CARELESS),
    "k3s-agent": (k8s_nodes.k3s_agent_node, K3S_AGENT),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_check_has_the_right_status_on_each_layout(layout: str, tmp_path: Path) -> None:
    build, not_passing = LAYOUTS[layout]
    result = audit(build(tmp_path))
    assert statuses(result) == expected(not_passing)
    assert all(f.evidence for f in result.findings), "every result says why"


def test_the_catalog_holds_every_benchmark_check_and_the_audit_runs_those_of_a_node() -> None:
    rules = catalog("cis-k8s")
    assert len(rules) == 131  # kube-bench's cfg/cis-1.12: 60 + 7 + 5 + 25 + 34
    assert len(node_rules()) == 97  # sections 1-4; section 5 is the cluster's, via its API
    automated = [i for i in node_rules() if rules[i].mappings["assessment"] == "Automated"]
    assert all(rules[i].scored for i in automated)
    assert len(automated) == 65


def test_a_careless_node_shows_what_is_wrong_and_where(tmp_path: Path) -> None:
    result = audit(k8s_nodes.careless(k8s_nodes.kubeadm_node(tmp_path)))
    assert evidence(result, "1.2.6") == (
        "--authorization-mode=AlwaysAllow (kube-apiserver process 1402) "
        "(want AlwaysAllow not included)"
    )
    assert evidence(result, "1.1.13") == (
        "/etc/kubernetes/admin.conf ubuntu:ubuntu 644 (want 600 or stricter)"
    )
    assert evidence(result, "4.2.1") == (
        "authentication.anonymous.enabled: true in /var/lib/kubelet/config.yaml (want false)"
    )
    assert evidence(result, "4.2.5") == (
        "--streaming-connection-idle-timeout=0 (kubelet process 812) (want not 0)"
    )
    assert evidence(result, "1.4.2") == (
        "--bind-address is not set (kube-scheduler process 1391); the default is 0.0.0.0 "
        "(want 127.0.0.1)"
    )
    assert evidence(result, "1.2.28") == (
        "first providers in /etc/kubernetes/encryption-config.yaml: secrets: identity "
        "(want aescbc, aesgcm, kms or secretbox first)"
    )
    assert "metricsBindAddress: 0.0.0.0:10249 in /var/lib/kube-proxy/config.conf" in evidence(
        result, "4.3.1"
    )
    assert result.score["percent"] < 30


def test_a_hardened_node_scores_every_scored_check(tmp_path: Path) -> None:
    result = audit(k8s_nodes.hardened(k8s_nodes.kubeadm_node(tmp_path)))
    assert result.score["failed"] == 0 and result.score["percent"] == 100.0
    assert evidence(result, "3.2.2").startswith(
        "/etc/kubernetes/audit-policy.yaml: read secrets: Metadata; change configmaps: "
        "Metadata; create tokenreviews: Metadata; create pods: Request;"
    )
    assert evidence(result, "4.2.9") == (
        "serverTLSBootstrap: true in /var/lib/kubelet/config.yaml: the serving certificate "
        "is requested from the cluster's CA"
    )
    assert evidence(result, "1.1.12") == "/var/lib/etcd etcd:etcd 700"


def test_a_node_disk_without_processes_is_read_from_manifests_and_the_unit(
    tmp_path: Path,
) -> None:
    """Offline (a disk mounted elsewhere): each component's flags come from its static pod
    manifest, the kubelet's from its systemd unit and kubeadm-flags.env; the statuses are
    those of the running node but for kube-proxy, which only a process shows."""
    result = audit(k8s_nodes.kubeadm_node(tmp_path, running=False))
    want = expected(KUBEADM) | {"4.3.1": "not_applicable"}
    assert statuses(result) == want
    assert evidence(result, "1.2.15") == (
        "--profiling is not set (/etc/kubernetes/manifests/kube-apiserver.yaml); "
        "the default is true (want false)"
    )
    sources = result.inventory["components"]
    assert sources["kubelet"] == (
        "/usr/lib/systemd/system/kubelet.service + "
        "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf + "
        "/var/lib/kubelet/kubeadm-flags.env"
    )
    assert "no processes under" in result.inventory["notes"][0]


def test_the_running_process_wins_over_a_manifest_not_yet_applied(tmp_path: Path) -> None:
    tree = k8s_nodes.kubeadm_node(tmp_path)
    tree.edit_yaml(  # edited on disk; the kubelet has not restarted the pod yet
        "etc/kubernetes/manifests/kube-apiserver.yaml",
        lambda pod: pod["spec"]["containers"][0]["command"].append("--profiling=false"),
    )
    assert statuses(audit(tree))["1.2.15"] == "fail"
    tree.manifest_flags("kube-apiserver", set_={"profiling": "false"})  # and now it runs
    assert statuses(audit(tree))["1.2.15"] == "pass"


def test_kubelet_flags_override_its_config_file_and_defaults_follow_the_config(
    tmp_path: Path,
) -> None:
    tree = k8s_nodes.kubeadm_node(tmp_path)
    tree.kubelet_extra_args("--read-only-port=10255")
    result = audit(tree)
    assert statuses(result)["4.2.4"] == "warn"
    assert evidence(result, "4.2.4") == "--read-only-port=10255 (kubelet process 812) (want 0)"
    # without a config file the flag defaults apply: anonymous access on, port 10255
    tree.path("var/lib/kubelet/config.yaml").unlink()
    tree.process(k8s_nodes.KUBELET_PID, [a for a in k8s_nodes.KUBELET_ARGV if "--config" not in a])
    result = audit(tree)
    assert statuses(result)["4.2.1"] == "fail"
    assert evidence(result, "4.2.1") == (
        "--anonymous-auth is not set (kubelet process 812); the default is true (want false)"
    )
    assert statuses(result)["4.1.9"] == "not_applicable"


def test_the_kubelets_config_drop_ins_override_its_file(tmp_path: Path) -> None:
    result = audit(k8s_nodes.eks_node(tmp_path))
    assert evidence(result, "4.2.13") == (
        "podPidsLimit: 4096 in /etc/kubernetes/kubelet/config.json.d/40-nodeadm.conf"
    )


@pytest.mark.parametrize(
    ("change", "check_id", "status", "words"),
    [
        (lambda t: t.manifest_flags("kube-apiserver", remove=("service-account-key-file",)),
         "1.2.22", "fail", "--service-account-key-file is not set"),
        (lambda t: t.manifest_flags("etcd", set_={"trusted-ca-file": "/etc/kubernetes/pki/ca.crt"}),
         "2.7", "warn", "is also the API server's --client-ca-file"),
        (lambda t: t.chown("etc/kubernetes/pki/ca.crt", "ubuntu", "root"),
         "4.1.8", "warn", "/etc/kubernetes/pki/ca.crt ubuntu:root 644 (want root:root)"),
        (lambda t: t.manifest_flags("etcd", remove=("cert-file", "key-file")),
         "2.1", "pass", "ETCD_CERT_FILE=/etc/etcd/server.crt"),
    ],
)  # fmt: skip
def test_single_changes(
    tmp_path: Path, change: Callable[[NodeTree], None], check_id: str, status: str, words: str
) -> None:
    tree = k8s_nodes.kubeadm_node(tmp_path)
    if check_id == "2.1":  # etcd reads each flag from an ETCD_* variable too
        variables = [{"name": "ETCD_CERT_FILE", "value": "/etc/etcd/server.crt"},
                     {"name": "ETCD_KEY_FILE", "value": "/etc/etcd/server.key"}]  # fmt: skip
        tree.edit_yaml("etc/kubernetes/manifests/etcd.yaml",
                       lambda pod: pod["spec"]["containers"][0].update(env=variables))  # fmt: skip
    change(tree)
    result = audit(tree)
    assert statuses(result)[check_id] == status
    assert words in evidence(result, check_id)


def test_role_can_be_forced(tmp_path: Path) -> None:
    tree = k8s_nodes.kubeadm_node(tmp_path)
    result = audit(tree, Role.NODE)
    assert statuses(result)["1.2.1"] == "not_applicable"
    assert evidence(result, "1.2.1") == "a worker node (--role node): no control plane here"
    worker = k8s_nodes.worker(k8s_nodes.kubeadm_node(tmp_path / "w"))
    forced = audit(worker, Role.CONTROL_PLANE)
    assert statuses(forced)["1.2.1"] == "error"
    assert evidence(forced, "1.2.1") == (
        "kube-apiserver was not found on this node (no process and no static pod manifest)"
    )


def test_the_inventory_names_the_node_its_layout_and_sources(tmp_path: Path) -> None:
    result = audit(k8s_nodes.kubeadm_node(tmp_path))
    inventory = result.inventory
    assert inventory["name"] == "cp1"
    assert inventory["layout"] == "kubeadm" and inventory["role"] == "control-plane"
    assert inventory["api_server"] == "https://192.168.49.2:6443"
    assert inventory["components"]["kube-proxy"] == "kube-proxy process 2210"
    assert result.counts[Status.ERROR] == 0


def test_an_authorization_configuration_file_stands_for_the_mode_flag(tmp_path: Path) -> None:
    """--authorization-config (AuthorizationConfiguration) replaces --authorization-mode:
    1.2.6-1.2.8 read its authorizers."""
    tree = k8s_nodes.kubeadm_node(tmp_path)
    tree.write("etc/kubernetes/authz.yaml", "apiVersion: apiserver.config.k8s.io/v1\n"
               "kind: AuthorizationConfiguration\nauthorizers:\n- {type: Node, name: node}\n"
               "- {type: Webhook, name: opa, webhook: {timeout: 3s}}\n", mode=0o600)  # fmt: skip
    config = {"authorization-config": "/etc/kubernetes/authz.yaml"}
    tree.manifest_flags("kube-apiserver", set_=config, remove=("authorization-mode",))
    result = audit(tree)
    got = statuses(result)
    assert (got["1.2.6"], got["1.2.7"], got["1.2.8"]) == ("pass", "pass", "fail")
    assert evidence(result, "1.2.8") == (
        "authorizers Node, Webhook in /etc/kubernetes/authz.yaml (want RBAC included)"
    )


@pytest.mark.parametrize(
    ("address", "status"),
    [("[::1]:10257", "pass"), ("localhost", "pass"), ("::1", "pass"), ("0.0.0.0", "fail"),
     ("[::]:10257", "fail"), ("10.0.0.5", "fail")],
)  # fmt: skip
def test_loopback_addresses_in_any_spelling(tmp_path: Path, address: str, status: str) -> None:
    tree = k8s_nodes.kubeadm_node(tmp_path)
    tree.manifest_flags("kube-controller-manager", set_={"bind-address": address})
    assert statuses(audit(tree))["1.3.7"] == status


def test_a_feature_gate_turned_off_in_any_case(tmp_path: Path) -> None:
    tree = k8s_nodes.kubeadm_node(tmp_path)
    gates = {"feature-gates": "Foo=true, RotateKubeletServerCertificate=False"}
    tree.manifest_flags("kube-controller-manager", set_=gates)
    assert statuses(audit(tree))["1.3.6"] == "fail"


def test_etcd_data_dir_from_its_environment_and_no_cni_files(tmp_path: Path) -> None:
    tree = k8s_nodes.kubeadm_node(tmp_path)
    tree.manifest_flags("etcd", remove=("data-dir",))
    tree.edit_yaml("etc/kubernetes/manifests/etcd.yaml", lambda pod: pod["spec"]["containers"][0]
                   .update(env=[{"name": "ETCD_DATA_DIR", "value": "/data/etcd"}]))  # fmt: skip
    tree.manifest_flags("etcd", set_={})  # the running process follows the manifest
    tree.path("data/etcd").mkdir(parents=True)
    tree.chmod("data/etcd", 0o750)
    for path in tree.path("etc/cni/net.d").iterdir():
        path.unlink()
    shutil.rmtree(tree.path("var/lib/cni"))
    result = audit(tree)
    assert evidence(result, "1.1.11") == "/data/etcd root:root 750 (want 700 or stricter)"
    assert statuses(result)["1.1.9"] == "not_applicable"
    assert evidence(result, "1.1.9").startswith("no CNI configuration or state files")


def test_a_kubelet_without_config_reads_no_file_where_one_usually_lies(tmp_path: Path) -> None:
    tree = k8s_nodes.kubeadm_node(tmp_path)
    tree.process(k8s_nodes.KUBELET_PID, [a for a in k8s_nodes.KUBELET_ARGV if "--config" not in a])
    result = audit(tree)  # /var/lib/kubelet/config.yaml is still there, unread
    assert statuses(result)["4.2.1"] == "fail"
    assert "--anonymous-auth is not set (kubelet process 812)" in evidence(result, "4.2.1")
