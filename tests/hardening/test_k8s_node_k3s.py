"""k3s's embedded components on a node: their flags rebuilt as k3s builds them (its
defaults, the options that change them, the ``--<component>-arg`` settings from config.yaml,
its drop-ins and the command line), and the evidence naming where each came from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from seawall.hardening.hostfiles import HostFiles
from seawall.hardening.kubernetes import k3s
from seawall.hardening.kubernetes.collect import NodeOptions, collect
from seawall.hardening.kubernetes.components import Component
from seawall.hardening.processes import list_processes
from tests.hardening import k8s_nodes
from tests.hardening.k8s_nodes import K3S, NodeTree
from tests.hardening.test_k8s_node_audit import K3S_CARELESS, audit, evidence, expected, statuses

PROCESS = "k3s server process 1201"


def components(tree: NodeTree) -> dict[str, Component]:
    return collect(NodeOptions(root=tree.root)).components


@pytest.fixture
def node(tmp_path: Path) -> NodeTree:
    return k8s_nodes.k3s_node(tmp_path)


def test_extra_args_replace_append_and_prepend_as_k3s_get_args_does() -> None:
    defaults = {"aaa": "A", "bbb": "B", "ccc": "C"}
    assert k3s.with_extra_args(defaults, ["--ddd=D", "bbb+=DD", "ccc-=CC", "eee"]) == {
        "aaa": ["A"], "bbb": ["B,DD"], "ccc": ["CC,C"], "ddd": ["D"], "eee": ["true"],
    }  # fmt: skip
    # a plain key replaces the default; repeating it keeps every value, the last in force
    assert k3s.with_extra_args(defaults, ["aaa=X", "aaa=Y"])["aaa"] == ["X", "Y"]
    assert defaults == {"aaa": "A", "bbb": "B", "ccc": "C"}


def test_each_flag_names_the_places_that_gave_it(tmp_path: Path) -> None:
    result = audit(k8s_nodes.k3s_careless(k8s_nodes.k3s_node(tmp_path)))
    places = f"{PROCESS} (k3s defaults, /etc/rancher/k3s/config.yaml, command line)"
    assert result.inventory["components"]["kube-apiserver"] == places
    assert evidence(result, "1.2.15") == f"--profiling=true ({places}) (want false)"
    assert evidence(result, "1.2.10") == (
        f"--enable-admission-plugins=NodeRestriction,AlwaysAdmit ({places}) "
        "(want AlwaysAdmit not included)"
    )
    assert evidence(result, "1.4.2").startswith(
        f"--bind-address=0.0.0.0 ({PROCESS} (k3s defaults, "
        "/etc/rancher/k3s/config.yaml.d/50-debug.yaml, command line))"
    )
    assert evidence(result, "1.2.6") == f"--authorization-mode=Node,RBAC ({places})"


def test_defaults_are_judged_where_k3s_sets_them(node: NodeTree) -> None:
    result = audit(node)
    assert evidence(result, "1.2.1") == f"--anonymous-auth=false ({PROCESS} (k3s defaults))"
    assert evidence(result, "1.3.7") == f"--bind-address=127.0.0.1 ({PROCESS} (k3s defaults))"
    assert evidence(result, "4.2.1") == (
        "authentication.anonymous.enabled: false in "
        f"/{K3S}/agent/etc/kubelet.conf.d/00-k3s-defaults.conf"
    )
    assert evidence(result, "4.2.4") == f"--read-only-port=0 ({PROCESS} (k3s defaults))"
    assert evidence(result, "4.3.1") == (
        f"--metrics-bind-address is not set ({PROCESS} (k3s defaults)); "
        "the default is 127.0.0.1:10249"
    )
    assert evidence(result, "2.1") == (
        "k3s keeps the cluster's state in its SQLite datastore (kine): no etcd "
        f"(/{K3S}/server/db/etcd does not exist, no --cluster-init)"
    )
    assert result.inventory["name"] == "k3s-1" and result.inventory["unreadable"] == {}


def test_a_later_drop_in_replaces_a_key_and_a_plus_key_appends(node: NodeTree) -> None:
    k8s_nodes.k3s_config(node, "kube-apiserver-arg: [profiling=true, audit-log-maxage=7]\n")
    k8s_nodes.k3s_config(node, "kube-apiserver-arg: [audit-log-maxage=30]\n", "10-audit.yaml")
    k8s_nodes.k3s_config(node, "kube-apiserver-arg+:\n  - audit-log-maxbackup=10\n",
                         "20-audit.yml")  # fmt: skip
    k8s_nodes.k3s_config(node, "kube-apiserver-arg: [profiling=true]\n", "30-ignored.txt")
    got = statuses(audit(node))
    assert (got["1.2.15"], got["1.2.17"], got["1.2.18"]) == ("pass", "pass", "pass")


def test_the_command_line_comes_after_the_config_files(node: NodeTree) -> None:
    k8s_nodes.k3s_config(node, "kube-apiserver-arg: [profiling=true]\nsecrets-encryption: true\n")
    k8s_nodes.k3s_run(node, "server", "--kube-apiserver-arg", "profiling=false",
                      "--secrets-encryption=false")  # fmt: skip
    result = audit(node)
    assert statuses(result)["1.2.15"] == "pass"
    assert evidence(result, "1.2.27").startswith("--encryption-provider-config is not set")


def test_the_config_file_may_be_named_by_a_variable_or_a_flag(node: NodeTree) -> None:
    node.write("srv/k3s.yaml", "kube-apiserver-arg: [profiling=true]\n")
    k8s_nodes.k3s_run(node, "server", "--config", "/srv/k3s.yaml")
    assert statuses(audit(node))["1.2.15"] == "fail"
    node.write("srv/other.yaml", "kube-scheduler-arg: [profiling=true]\n")
    k8s_nodes.k3s_run(node, "server", "-c", "/srv/k3s.yaml",
                      environ={"K3S_CONFIG_FILE": "/srv/other.yaml"})  # fmt: skip
    got = statuses(audit(node))
    assert (got["1.2.15"], got["1.4.1"]) == ("pass", "fail")  # the variable wins


def test_options_change_the_defaults(node: NodeTree) -> None:
    options = "secrets-encryption: true\ndisable-kube-proxy: true\n"
    k8s_nodes.k3s_config(node, options + "kube-apiserver-arg: [authentication-config=/a.yaml]\n")
    node.write(f"{K3S}/server/cred/encryption-config.json", k8s_nodes.K3S_ENCRYPTION, mode=0o600)
    result = audit(node)
    got = statuses(result)
    config = f"{PROCESS} (k3s defaults, /etc/rancher/k3s/config.yaml)"
    assert evidence(result, "1.2.27") == (
        f"--encryption-provider-config=/{K3S}/server/cred/encryption-config.json ({config})"
    )
    assert got["1.2.28"] == "pass"
    # with an authentication config file, k3s leaves --anonymous-auth out: its default is on
    assert evidence(result, "1.2.1") == (
        f"--anonymous-auth is not set ({config}); the default is true (want false)"
    )
    assert got["4.3.1"] == "not_applicable"
    assert evidence(result, "4.3.1") == "k3s runs no kube-proxy on this node (--disable-kube-proxy)"


def test_the_data_dir_moves_every_path(node: NodeTree) -> None:
    k8s_nodes.k3s_run(node, "server", "--data-dir=/srv/k3s")
    found = components(node)
    assert found["kube-apiserver"].value("client-ca-file") == "/srv/k3s/server/tls/client-ca.crt"
    assert found["kubelet"].value("kubeconfig") == "/srv/k3s/agent/kubelet.kubeconfig"
    assert found["kubelet"].source == f"{PROCESS} (k3s defaults, command line)"


def test_embedded_etcd_runs_when_its_data_dir_exists(node: NodeTree) -> None:
    k8s_nodes.k3s_etcd(node)
    k8s_nodes.k3s_config(node, "etcd-arg: [client-cert-auth=false, quota-backend-bytes=8]\n")
    result = audit(node)
    got = statuses(result)
    tls = f"/{K3S}/server/tls/etcd"
    places = f"{PROCESS} (k3s defaults, /etc/rancher/k3s/config.yaml)"
    assert evidence(result, "2.1") == (
        f"--cert-file={tls}/server-client.crt ({places}); "
        f"--key-file={tls}/server-client.key ({places})"
    )
    # --etcd-arg writes top-level keys of etcd's config file, where etcd does not read TLS
    assert got["2.2"] == "pass"
    assert components(node)["etcd"].value("quota-backend-bytes") == "8"
    assert [got[i] for i in ("2.3", "2.4", "2.5", "2.6", "2.7")] == ["pass"] * 5
    assert (got["1.2.23"], got["1.2.26"]) == ("pass", "pass")
    assert (got["1.1.11"], got["1.1.12"]) == ("pass", "fail")  # k3s runs etcd as root
    assert evidence(result, "1.2.26") == (
        f"--etcd-cafile={tls}/server-ca.crt ({PROCESS} (k3s defaults))"
    )


@pytest.mark.parametrize(
    ("endpoint", "api_etcd_tls"),
    [("https://etcd-1.example:2379", "pass"), ("mysql://k3s:s3cr3t@tcp(db:3306)/k3s", "fail")],
)
def test_an_external_datastore_has_no_etcd_here(
    node: NodeTree, endpoint: str, api_etcd_tls: str
) -> None:
    k8s_nodes.k3s_config(node, f"datastore-endpoint: {endpoint}\n"
                         "datastore-cafile: /etc/k3s/etcd-ca.crt\n"
                         "datastore-certfile: /etc/k3s/etcd.crt\n"
                         "datastore-keyfile: /etc/k3s/etcd.key\n")  # fmt: skip
    result = audit(node)
    got = statuses(result)
    assert got["2.1"] == "not_applicable"
    assert "s3cr3t" not in evidence(result, "2.1")
    assert "external datastore (--datastore-endpoint)" in evidence(result, "2.1")
    assert (got["1.2.23"], got["1.2.26"]) == (api_etcd_tls, api_etcd_tls)


def test_a_kubelet_config_file_is_copied_into_the_drop_ins_not_passed(tmp_path: Path) -> None:
    tree = k8s_nodes.k3s_hardened(k8s_nodes.k3s_node(tmp_path))
    kubelet = components(tree)["kubelet"]
    assert "config" not in kubelet.flags
    result = audit(tree)
    assert evidence(result, "4.2.13") == (
        f"podPidsLimit: 4096 in /{K3S}/agent/etc/kubelet.conf.d/10-cli-config.conf"
    )
    assert evidence(result, "4.2.5") == (
        f"--streaming-connection-idle-timeout=5m ({PROCESS} (k3s defaults, "
        "/etc/rancher/k3s/config.yaml))"
    )


def test_without_k3s_s_kubelet_drop_in_the_kubelet_settings_are_unknown(node: NodeTree) -> None:
    node.path(f"{K3S}/agent/etc/kubelet.conf.d/00-k3s-defaults.conf").unlink()
    result = audit(node)
    got = statuses(result)
    assert {got[i] for i in ("4.2.1", "4.2.4", "4.2.9", "4.1.9")} == {"error"}
    assert evidence(result, "4.2.1").startswith(
        f"k3s writes the kubelet's settings to /{K3S}/agent/etc/kubelet.conf.d/"
        "00-k3s-defaults.conf when it starts, and that file is not there"
    )
    assert (got["4.1.5"], got["4.2.7"], got["1.2.1"]) == ("pass", "warn", "pass")


def test_a_node_disk_without_processes_is_read_from_the_k3s_unit(tmp_path: Path) -> None:
    tree = k8s_nodes.k3s_careless(k8s_nodes.k3s_node(tmp_path))
    shutil.rmtree(tree.path("proc"))
    result = audit(tree)
    assert statuses(result) == expected(K3S_CARELESS)
    assert result.inventory["components"]["kube-apiserver"] == (
        "/etc/systemd/system/k3s.service (k3s defaults, /etc/rancher/k3s/config.yaml, command line)"
    )


def test_a_k3s_agent_runs_the_kubelet_and_kube_proxy_only(tmp_path: Path) -> None:
    tree = k8s_nodes.k3s_agent_node(tmp_path)
    k8s_nodes.k3s_config(tree, "kube-apiserver-arg: [profiling=true]\n"
                         "kubelet-arg: [seccomp-default=true]\nnode-name: edge-7\n")  # fmt: skip
    result = audit(tree)
    assert set(result.inventory["components"]) == {"kubelet", "kube-proxy"}
    assert result.inventory["role"] == "node" and result.inventory["name"] == "edge-7"
    assert statuses(result)["4.2.14"] == "pass"
    assert evidence(result, "1.2.15") == (
        "a worker node (no kube-apiserver process or manifest): no control plane here"
    )


def test_k3s_is_found_among_the_processes_or_not_at_all(node: NodeTree) -> None:
    files = HostFiles(node.root)
    assert k3s.embedded(files, list_processes(files)) is not None
    shutil.rmtree(node.path("proc"))
    node.path(k8s_nodes.K3S_UNIT).unlink()
    assert k3s.embedded(files, []) is None
    result = audit(node)
    assert statuses(result)["1.2.1"] == "not_applicable"  # no server seen: a worker
    assert statuses(result)["4.2.1"] == "error"
