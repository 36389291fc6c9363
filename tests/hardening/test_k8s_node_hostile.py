"""Untrusted node filesystems: a malformed, oversized, unreadable or escaping file gives the
checks that need it a clear error (or not-applicable) and every other check is assessed;
nothing outside the root is read, nothing is written. On kubeadm nodes and on k3s, whose
config.yaml decides every component it runs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.hardening.kubernetes.audit import NodeAuditOptions, audit_node
from seawall.hardening.kubernetes.collect import NodeOptions
from seawall.model import Status
from tests.hardening import k8s_nodes
from tests.hardening.k8s_nodes import NodeTree
from tests.hardening.test_k8s_node_audit import K3S, KUBEADM, evidence, expected, statuses

APISERVER_MANIFEST = "etc/kubernetes/manifests/kube-apiserver.yaml"
KUBELET_CONFIG = "var/lib/kubelet/config.yaml"


def offline(tmp_path: Path) -> NodeTree:
    """A kubeadm node's disk without its proc tree: settings come from the files."""
    return k8s_nodes.kubeadm_node(tmp_path, running=False)


def audit_statuses(tree: NodeTree) -> dict[str, str]:
    return statuses(audit_node(NodeAuditOptions(node=NodeOptions(root=tree.root))))


def apiserver_checks() -> list[str]:
    return [i for i in expected(KUBEADM) if i.startswith(("1.2.", "3.2."))]


def test_a_malformed_manifest_errs_its_component_checks_only(tmp_path: Path) -> None:
    tree = offline(tmp_path)
    tree.write(APISERVER_MANIFEST, "apiVersion: v1\nkind: Pod\nspec: [unclosed\n", mode=0o600)
    result = audit_node(NodeAuditOptions(node=NodeOptions(root=tree.root)))
    got = statuses(result)
    # the API server is still found (its manifest exists), so the node is a control plane;
    # its own checks say why they cannot decide
    assert {got[i] for i in apiserver_checks()} == {"error"}
    assert "invalid YAML" in evidence(result, "1.2.15")
    untouched = {i: s for i, s in expected(KUBEADM).items() if i not in apiserver_checks()}
    untouched["4.3.1"] = "not_applicable"  # offline: no kube-proxy process
    assert {i: got[i] for i in untouched} == untouched


def test_an_oversized_kubelet_config_is_refused_and_its_file_checks_still_run(
    tmp_path: Path,
) -> None:
    tree = offline(tmp_path)
    tree.write(KUBELET_CONFIG, "a: b\n" * (1 << 20), mode=0o600)  # 5 MiB
    result = audit_node(NodeAuditOptions(node=NodeOptions(root=tree.root)))
    got = statuses(result)
    assert got["4.2.1"] == "error" and "larger than 4 MiB" in evidence(result, "4.2.1")
    assert got["4.1.9"] == "error"  # which files make up the config is unknown
    assert got["4.1.5"] == "pass" and got["1.2.6"] == "pass"


def test_a_fifo_where_a_file_should_be_does_not_block(tmp_path: Path) -> None:
    tree = offline(tmp_path)
    tree.path(KUBELET_CONFIG).unlink()
    os.mkfifo(tree.path(KUBELET_CONFIG))
    result = audit_node(NodeAuditOptions(node=NodeOptions(root=tree.root)))
    assert statuses(result)["4.2.1"] == "error"
    assert "not a regular file" in evidence(result, "4.2.1")


def test_links_that_leave_the_root_resolve_inside_it(tmp_path: Path) -> None:
    """An absolute link, and a relative one climbing past the root, are followed as a
    chroot would: inside the root, where the target does not exist."""
    tree = offline(tmp_path)
    outside = tmp_path / "outside-secret.conf"
    outside.write_text("apiVersion: v1\nkind: Config\n")
    tree.path("etc/kubernetes/admin.conf").unlink()
    tree.path("etc/kubernetes/admin.conf").symlink_to(outside)
    tree.path("etc/kubernetes/super-admin.conf").unlink()
    tree.path("etc/kubernetes/super-admin.conf").symlink_to("../../../../../../outside-secret.conf")
    result = audit_node(NodeAuditOptions(node=NodeOptions(root=tree.root)))
    assert statuses(result)["1.1.13"] == "not_applicable"
    assert "does not exist" in evidence(result, "1.1.13")
    assert str(outside) not in evidence(result, "1.1.13")


def test_a_symlink_loop_and_a_huge_pki_tree_err_their_checks(tmp_path: Path) -> None:
    tree = offline(tmp_path)
    tree.path("etc/kubernetes/scheduler.conf").unlink()
    tree.path("etc/kubernetes/scheduler.conf").symlink_to("scheduler.conf")
    for n in range(10_001):
        (tree.path("etc/kubernetes/pki") / f"extra-{n}.crt").touch()
    result = audit_node(NodeAuditOptions(node=NodeOptions(root=tree.root)))
    got = statuses(result)
    assert got["1.1.15"] == "error" and "too many symbolic links" in evidence(result, "1.1.15")
    assert got["1.1.19"] == "error" and "more than 10000 entries" in evidence(result, "1.1.19")
    assert got["1.1.13"] == "pass"


def test_a_hostile_proc_tree_is_skipped_process_by_process(tmp_path: Path) -> None:
    tree = k8s_nodes.kubeadm_node(tmp_path)
    tree.write("proc/9999/cmdline", b"x" * (2 << 20))  # beyond Linux's argv limit
    tree.write("proc/9998/cmdline", b"")  # a kernel thread
    tree.path("proc/9997").mkdir()  # exited while listed: no files
    assert audit_statuses(tree) == expected(KUBEADM)


def test_a_unit_that_cannot_be_split_errs_the_kubelet_only(tmp_path: Path) -> None:
    tree = offline(tmp_path)
    tree.write("usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
               '[Service]\nExecStart=\nExecStart=/usr/bin/kubelet "--config=\n')  # fmt: skip
    result = audit_node(NodeAuditOptions(node=NodeOptions(root=tree.root)))
    got = statuses(result)
    assert got["4.2.1"] == "error" and "cannot be split" in evidence(result, "4.2.1")
    assert got["1.2.6"] == "pass"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(manifest=st.binary(max_size=2048), kubelet=st.text(max_size=2048))
def test_any_bytes_in_the_files_give_statuses_never_a_crash(
    tmp_path_factory, manifest: bytes, kubelet: str
) -> None:
    tree = offline(tmp_path_factory.mktemp("node"))
    tree.write(APISERVER_MANIFEST, manifest, mode=0o600)
    tree.write(KUBELET_CONFIG, kubelet, mode=0o600)
    result = audit_node(NodeAuditOptions(node=NodeOptions(root=tree.root)))
    assert len(result.findings) == len(expected(KUBEADM))
    assert all(f.evidence for f in result.findings)
    assert all(not f.evidence.startswith("check failed") for f in result.findings)
    got = statuses(result)
    assert got["1.1.13"] == "pass" and got["4.1.5"] == "pass"  # files unrelated to those
    assert {f.status for f in result.findings} <= set(Status)


# -- k3s's configuration: config.yaml and config.yaml.d decide every embedded component ----

K3S_CONFIG = "etc/rancher/k3s/config.yaml"
K3S_READ_FROM_CONFIG = [
    i for i in expected(K3S) if i.startswith(("1.2", "1.3", "1.4", "3.2", "4.2", "4.3"))
] + ["4.1.9", "4.1.10"]


def assert_k3s_config_refused(tree: NodeTree, words: str) -> None:
    """Every check of an embedded component errs, naming the file; the others are those of
    k3s as installed (its files are assessed, etcd is still known to be absent)."""
    result = audit_node(NodeAuditOptions(node=NodeOptions(root=tree.root)))
    got = statuses(result)
    assert {got[i] for i in K3S_READ_FROM_CONFIG} == {"error"}
    assert words in evidence(result, "1.2.1")
    assert evidence(result, "1.2.1").endswith("the flags k3s gives kube-apiserver are unknown")
    assert evidence(result, "4.2.1").endswith("the flags k3s gives kubelet are unknown")
    untouched = {i: s for i, s in expected(K3S).items() if i not in K3S_READ_FROM_CONFIG}
    assert {i: got[i] for i in untouched} == untouched
    assert result.inventory["role"] == "control-plane"


def test_a_malformed_k3s_config_errs_the_embedded_components(tmp_path: Path) -> None:
    tree = k8s_nodes.k3s_node(tmp_path)
    k8s_nodes.k3s_config(tree, "kube-apiserver-arg: [profiling=false\nsecrets-encryption: [\n")
    assert_k3s_config_refused(tree, "/etc/rancher/k3s/config.yaml: invalid YAML: line ")
    k8s_nodes.k3s_config(tree, "- kube-apiserver-arg\n- profiling=false\n")
    assert_k3s_config_refused(tree, "/etc/rancher/k3s/config.yaml is not a mapping")
    shutil.rmtree(tree.path("proc"))  # the node's disk: k3s.service names the server
    result = audit_node(NodeAuditOptions(node=NodeOptions(root=tree.root)))
    assert result.inventory["role_evidence"] == "a k3s server whose settings cannot be read"
    assert statuses(result)["1.2.1"] == "error"


def test_an_oversized_k3s_config_is_refused(tmp_path: Path) -> None:
    tree = k8s_nodes.k3s_node(tmp_path)
    k8s_nodes.k3s_config(tree, "kube-apiserver-arg:\n" + "  - profiling=false\n" * 250_000)
    assert_k3s_config_refused(tree, "/etc/rancher/k3s/config.yaml is larger than 4 MiB")


def test_a_fifo_among_k3s_config_drop_ins_does_not_block(tmp_path: Path) -> None:
    tree = k8s_nodes.k3s_node(tmp_path)
    k8s_nodes.k3s_config(tree, "kube-apiserver-arg: [profiling=false]\n")
    tree.path(f"{K3S_CONFIG}.d").mkdir()
    os.mkfifo(tree.path(f"{K3S_CONFIG}.d/50-fifo.yaml"))
    assert_k3s_config_refused(
        tree, "cannot read /etc/rancher/k3s/config.yaml.d/50-fifo.yaml: a FIFO, not a regular file"
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(config=st.binary(max_size=2048), dropin=st.text(max_size=512))
def test_any_bytes_in_k3s_config_give_statuses_never_a_crash(
    tmp_path_factory, config: bytes, dropin: str
) -> None:
    tree = k8s_nodes.k3s_node(tmp_path_factory.mktemp("k3s"))
    tree.write(K3S_CONFIG, config, mode=0o600)
    tree.write(f"{K3S_CONFIG}.d/10-x.yaml", dropin, mode=0o600)
    result = audit_node(NodeAuditOptions(node=NodeOptions(root=tree.root)))
    assert len(result.findings) == len(expected(K3S))
    assert all(f.evidence and not f.evidence.startswith("check failed") for f in result.findings)
    got = statuses(result)
    assert got["1.1.13"] == "pass" and got["4.1.5"] == "pass"


@pytest.mark.parametrize(
    "content", ["authorizers: [unclosed\n", "- just a list\n", "kind: AuthorizationConfiguration\n"]
)
def test_a_broken_authorization_configuration_errs_its_checks_only(
    tmp_path: Path, content: str
) -> None:
    tree = offline(tmp_path)
    tree.write("etc/kubernetes/authz.yaml", content, mode=0o600)
    config = {"authorization-config": "/etc/kubernetes/authz.yaml"}
    tree.manifest_flags("kube-apiserver", set_=config, remove=("authorization-mode",))
    result = audit_node(NodeAuditOptions(node=NodeOptions(root=tree.root)))
    got = statuses(result)
    assert {got["1.2.6"], got["1.2.7"], got["1.2.8"]} == {"error"}
    assert "/etc/kubernetes/authz.yaml" in evidence(result, "1.2.7")
    assert got["1.2.15"] == "fail"  # the rest of the API server is still judged
