"""How a node was installed, and where that puts the files the benchmark names.

Paths here are the distribution's defaults. Where a running component names a file itself
(the kubelet's ``--config``, etcd's ``--data-dir``), that wins: see ``collect``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from seawall.hardening.hostfiles import HostFiles


class Layout(enum.StrEnum):
    KUBEADM = "kubeadm"
    K3S = "k3s"
    RKE2 = "rke2"
    EKS = "eks"
    GKE = "gke"
    AKS = "aks"
    UNKNOWN = "unknown"

    @property
    def managed(self) -> bool:
        """A cloud provider runs the control plane: only the worker sections apply."""
        return self in (Layout.EKS, Layout.GKE, Layout.AKS)


@dataclass(frozen=True)
class NodePaths:
    """The files of one layout. ``manifests`` is the static pod directory ("" when the
    control plane does not run as static pods, as in k3s)."""

    manifests: str = "/etc/kubernetes/manifests"
    admin_kubeconfigs: tuple[str, ...] = ("/etc/kubernetes/admin.conf",
                                          "/etc/kubernetes/super-admin.conf")  # fmt: skip
    scheduler_kubeconfig: str = "/etc/kubernetes/scheduler.conf"
    controller_manager_kubeconfig: str = "/etc/kubernetes/controller-manager.conf"
    pki: str = "/etc/kubernetes/pki"
    etcd_data: str = "/var/lib/etcd"
    kubelet_kubeconfig: str = "/etc/kubernetes/kubelet.conf"
    kubelet_ca: str = "/etc/kubernetes/pki/ca.crt"
    kubelet_units: tuple[str, ...] = ("kubelet.service",)  # the first present is the one
    proxy_kubeconfigs: tuple[str, ...] = ("/etc/kubernetes/proxy.conf",
                                          "/var/lib/kube-proxy/kubeconfig.conf",
                                          "/var/lib/kube-proxy/kubeconfig")  # fmt: skip
    cni_config: str = "/etc/cni/net.d"
    cni_state: str = "/var/lib/cni/networks"

    def manifest(self, component: str) -> str:
        return f"{self.manifests}/{component}.yaml" if self.manifests else ""


_K3S = "/var/lib/rancher/k3s"
_RKE2 = "/var/lib/rancher/rke2"
PATHS: dict[Layout, NodePaths] = {
    Layout.KUBEADM: NodePaths(),
    Layout.UNKNOWN: NodePaths(),
    Layout.K3S: NodePaths(
        manifests="",
        admin_kubeconfigs=("/etc/rancher/k3s/k3s.yaml", f"{_K3S}/server/cred/admin.kubeconfig"),
        scheduler_kubeconfig=f"{_K3S}/server/cred/scheduler.kubeconfig",
        controller_manager_kubeconfig=f"{_K3S}/server/cred/controller.kubeconfig",
        pki=f"{_K3S}/server/tls",
        etcd_data=f"{_K3S}/server/db/etcd",
        kubelet_kubeconfig=f"{_K3S}/agent/kubelet.kubeconfig",
        kubelet_ca=f"{_K3S}/agent/client-ca.crt",
        kubelet_units=("k3s.service", "k3s-agent.service"),
        proxy_kubeconfigs=(f"{_K3S}/agent/kubeproxy.kubeconfig",),
        cni_config=f"{_K3S}/agent/etc/cni/net.d",
    ),
    Layout.RKE2: NodePaths(
        manifests=f"{_RKE2}/agent/pod-manifests",
        admin_kubeconfigs=("/etc/rancher/rke2/rke2.yaml", f"{_RKE2}/server/cred/admin.kubeconfig"),
        scheduler_kubeconfig=f"{_RKE2}/server/cred/scheduler.kubeconfig",
        controller_manager_kubeconfig=f"{_RKE2}/server/cred/controller.kubeconfig",
        pki=f"{_RKE2}/server/tls",
        etcd_data=f"{_RKE2}/server/db/etcd",
        kubelet_kubeconfig=f"{_RKE2}/agent/kubelet.kubeconfig",
        kubelet_ca=f"{_RKE2}/agent/client-ca.crt",
        kubelet_units=("rke2-server.service", "rke2-agent.service"),
        proxy_kubeconfigs=(f"{_RKE2}/agent/kubeproxy.kubeconfig",),
        cni_config="/etc/cni/net.d",
    ),
    Layout.EKS: NodePaths(
        manifests="",
        kubelet_kubeconfig="/var/lib/kubelet/kubeconfig",
        proxy_kubeconfigs=("/var/lib/kube-proxy/kubeconfig",),
    ),
    Layout.GKE: NodePaths(
        manifests="",
        kubelet_kubeconfig="/var/lib/kubelet/kubeconfig",
        kubelet_ca="/etc/srv/kubernetes/pki/ca-certificates.crt",
        proxy_kubeconfigs=("/var/lib/kube-proxy/kubeconfig",),
    ),
    Layout.AKS: NodePaths(
        manifests="",
        kubelet_kubeconfig="/var/lib/kubelet/kubeconfig",
        kubelet_ca="/etc/kubernetes/certs/ca.crt",
        proxy_kubeconfigs=("/var/lib/kube-proxy/kubeconfig",),
    ),
}

# What marks each layout, checked in this order (a managed node's marker first: an EKS node
# also has /etc/kubernetes, a kubeadm node has nothing of the others).
_MARKERS: tuple[tuple[Layout, tuple[str, ...]], ...] = (
    (Layout.EKS, ("/etc/eks",)),
    (Layout.GKE, ("/home/kubernetes/kubelet-config.yaml", "/home/kubernetes/bin")),
    (Layout.AKS, ("/etc/kubernetes/azure.json",)),
    (Layout.RKE2, ("/etc/rancher/rke2", _RKE2)),
    (Layout.K3S, ("/etc/rancher/k3s", _K3S)),
    (Layout.KUBEADM, ("/etc/kubernetes/manifests", "/var/lib/kubelet/kubeadm-flags.env",
                      "/etc/kubernetes/kubelet.conf")),
)  # fmt: skip


def detect_layout(files: HostFiles, programs: frozenset[str]) -> tuple[Layout, str]:
    """The layout of the node and the evidence (the marker found). ``programs`` are the
    running programs' names: a running ``k3s`` or ``rke2`` decides before any file."""
    for layout in (Layout.RKE2, Layout.K3S):
        if layout.value in programs:
            return layout, f"a {layout.value} process runs"
    for layout, markers in _MARKERS:
        for marker in markers:
            if files.exists(marker):
                return layout, f"{marker} exists"
    return Layout.UNKNOWN, "no known layout's files found (kubeadm paths assumed)"
