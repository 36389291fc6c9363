"""One snapshot of a Kubernetes node: its layout, role, components and their settings.

Checks read only this. Asking for a component that is not on the node raises
:class:`NotApplicable` with the reason; one that could not be read raises
:class:`Unassessable`: both become the finding's status and evidence.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from seawall.errors import InputError
from seawall.hardening.errors import NotApplicable, Unassessable
from seawall.hardening.hostfiles import HostFiles
from seawall.hardening.kubernetes.components import (
    CONTROL_PLANE,
    ETCD,
    KUBELET,
    PROXY,
    Component,
)
from seawall.hardening.kubernetes.kubelet import KubeletSettings
from seawall.hardening.kubernetes.layout import Layout, NodePaths
from seawall.safety.yaml import read_yaml


class Role(enum.StrEnum):
    AUTO = "auto"
    CONTROL_PLANE = "control-plane"
    NODE = "node"


@dataclass
class NodeFacts:
    files: HostFiles
    layout: Layout
    layout_evidence: str
    paths: NodePaths
    role: Role
    role_evidence: str
    hostname: str = ""
    machine_id: str = ""  # /etc/machine-id: the node's identity across renames
    api_server: str = ""  # the API server the kubelet's kubeconfig names
    components: dict[str, Component] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # component -> why it is unreadable
    absent: dict[str, str] = field(default_factory=dict)  # component -> why it is not here
    processes_seen: bool = False
    kubelet_settings: KubeletSettings | None = None
    proxy_config: tuple[str, dict[str, Any]] | None = None  # (path, KubeProxyConfiguration)
    notes: list[str] = field(default_factory=list)  # what could not be looked at, and why

    @property
    def control_plane(self) -> bool:
        return self.role is Role.CONTROL_PLANE

    def component(self, name: str) -> Component:
        """The component ``name``; NotApplicable or Unassessable (with why) if absent. The
        control plane's components are assessed on control-plane nodes only; etcd wherever
        it runs (an external etcd has nodes of its own)."""
        if name in CONTROL_PLANE:
            self.require_control_plane()
        if name in self.components:
            return self.components[name]
        if name == ETCD:
            self.require_control_plane()
        if name in self.errors:
            raise Unassessable(self.errors[name])
        if name in self.absent:
            raise NotApplicable(self.absent[name])
        if name == ETCD:
            raise NotApplicable(
                "etcd does not run on this node (no process, no static pod manifest): "
                "an external etcd, or another datastore"
            )
        if name == PROXY and not self.processes_seen:
            raise NotApplicable(
                "kube-proxy runs as a DaemonSet pod, seen only as a process, and no processes "
                "were read (a node filesystem without its proc tree)"
            )
        if name == PROXY:
            raise NotApplicable("kube-proxy does not run on this node (no kube-proxy process)")
        where = "no process and no static pod manifest"
        if name == KUBELET:
            where = f"no process and no {' or '.join(self.paths.kubelet_units)} unit"
        raise Unassessable(f"{name} was not found on this node ({where})")

    def document(self, path: str, what: str) -> dict[str, Any]:
        """The YAML (or JSON) mapping in the node's file ``path`` (``what`` it should be,
        for the reasons); Unassessable when missing, unreadable, malformed or not a mapping."""
        text = self.files.read_text(path)
        if text is None:
            raise Unassessable(f"{what} {path} does not exist on this node")
        try:
            documents = read_yaml(text, path, max_documents=1)
        except InputError as exc:
            raise Unassessable(exc.message) from None
        document = documents[0] if documents else None
        if not isinstance(document, dict):
            raise Unassessable(f"{path} is not {what} (not a mapping)")
        return document

    def require_control_plane(self) -> None:
        """NotApplicable unless this node runs the control plane."""
        if self.layout.managed:
            raise NotApplicable(
                f"a managed {self.layout.value.upper()} node: the provider runs the control "
                "plane, which no node can inspect"
            )
        if not self.control_plane:
            raise NotApplicable(f"a worker node ({self.role_evidence}): no control plane here")

    def kubelet(self) -> KubeletSettings:
        """The kubelet's settings; Unassessable if its config could not be read."""
        self.component(KUBELET)
        if self.kubelet_settings is None:
            raise Unassessable(
                self.errors.get("kubelet-config", "the kubelet's settings are unknown")
            )
        return self.kubelet_settings
