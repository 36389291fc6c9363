"""Build the :class:`NodeFacts` snapshot of a node: processes, layout, role, components, the
kubelet's and kube-proxy's settings. Nothing here decides a check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seawall.errors import InputError
from seawall.hardening import systemd
from seawall.hardening.errors import Unassessable
from seawall.hardening.hostfiles import MAX_TEXT_BYTES, HostFiles
from seawall.hardening.kubernetes import components as parts
from seawall.hardening.kubernetes import k3s
from seawall.hardening.kubernetes.facts import NodeFacts, Role
from seawall.hardening.kubernetes.kubelet import kubelet_settings
from seawall.hardening.kubernetes.layout import PATHS, Layout, detect_layout
from seawall.hardening.processes import Process, list_processes, process_ids
from seawall.safety.files import read_regular
from seawall.safety.yaml import read_yaml


@dataclass(frozen=True)
class NodeOptions:
    root: Path = Path("/")
    role: Role = Role.AUTO


def collect(options: NodeOptions) -> NodeFacts:
    """The snapshot of the node whose filesystem is at ``options.root``."""
    files = HostFiles(options.root)
    notes: list[str] = []
    try:
        pids = process_ids(files)
        seen = bool(pids)
        processes = list_processes(files, _kubernetes_program, pids)
    except Unassessable as exc:
        seen, processes = False, []
        notes.append(exc.reason)
    if not seen:
        notes.append(f"no processes under {options.root / 'proc'}: settings are read from files")
    layout, layout_evidence = detect_layout(files, frozenset(p.program for p in processes))
    facts = NodeFacts(
        files=files,
        layout=layout,
        layout_evidence=layout_evidence,
        paths=PATHS[layout],
        role=Role.NODE,
        role_evidence="",
        notes=notes,
    )
    facts.processes_seen = seen
    _read_components(facts, processes)
    facts.role, facts.role_evidence = _role(facts, options.role, processes)
    _read_kubelet_settings(facts)
    _read_proxy_config(facts)
    facts.hostname = _hostname(facts)
    facts.machine_id = _first_line(facts, "/etc/machine-id")
    facts.api_server = _api_server(facts)
    return facts


def _kubernetes_program(name: str) -> bool:
    """A kernel process name (``comm``, 15 characters at most) of a Kubernetes component or
    a distribution running them: only those processes' command lines are read."""
    return name.startswith(("kube", "etcd", "k3s", "rke2", "hyperkube"))


def _read_components(facts: NodeFacts, processes: list[Process]) -> None:
    for name in parts.ALL:
        try:
            found = parts.from_process(facts.files, name, processes)
            # RKE2 runs kube-proxy as a static pod too
            if (
                found is None
                and name in (*parts.STATIC_PODS, parts.PROXY)
                and facts.paths.manifests
            ):
                found = parts.from_manifest(facts.files, name, facts.paths.manifest(name))
            if found is None and name in (parts.KUBELET, parts.PROXY):
                found = _from_unit(facts, name)
        except Unassessable as exc:
            facts.errors[name] = exc.reason
            continue
        if found is not None:
            facts.components[name] = found
    if facts.layout is Layout.K3S:
        _k3s(facts, processes)


def _from_unit(facts: NodeFacts, name: str) -> parts.Component | None:
    units = facts.paths.kubelet_units if name == parts.KUBELET else (f"{name}.service",)
    unit = systemd.first_unit(facts.files, units)
    try:
        return parts.from_unit(facts.files, name, unit)
    except Unassessable:
        if name == parts.PROXY:
            return None  # kube-proxy runs as a DaemonSet pod far more often than as a unit
        raise


def _k3s(facts: NodeFacts, processes: list[Process]) -> None:
    """k3s runs every component inside its own process: each one's flags as k3s builds
    them (``k3s``). A component found running on its own is left as found."""
    found = k3s.embedded(facts.files, processes)
    if found is None:
        return
    for name, component in found.components.items():
        if name not in facts.components:
            facts.components[name] = component
            facts.errors.pop(name, None)  # k3s.service runs k3s, not a kubelet
    for name, reason in found.absent.items():
        if name not in facts.components:
            facts.absent[name] = reason
    for name, reason in found.errors.items():
        if name not in facts.components:
            facts.errors[name] = reason


def _role(facts: NodeFacts, asked: Role, processes: list[Process]) -> tuple[Role, str]:
    if asked is not Role.AUTO:
        return asked, f"--role {asked.value}"
    apiserver = facts.components.get(parts.APISERVER)
    if apiserver is not None:
        return Role.CONTROL_PLANE, f"kube-apiserver found ({apiserver.source})"
    if parts.APISERVER in facts.errors and facts.layout not in (Layout.K3S, Layout.RKE2):
        return Role.CONTROL_PLANE, "kube-apiserver's manifest exists but cannot be read"
    for process in processes:
        if process.program in ("k3s", "rke2") and "server" in process.argv[1:3]:
            return Role.CONTROL_PLANE, f"{process.program} server process {process.pid}"
    if parts.APISERVER in facts.errors and facts.layout is Layout.K3S:
        return Role.CONTROL_PLANE, "a k3s server whose settings cannot be read"
    return Role.NODE, "no kube-apiserver process or manifest"


def _read_kubelet_settings(facts: NodeFacts) -> None:
    kubelet = facts.components.get(parts.KUBELET)
    if kubelet is None or "kubelet-config" in facts.errors:
        return
    try:
        facts.kubelet_settings = kubelet_settings(facts.files, kubelet)
    except Unassessable as exc:
        facts.errors["kubelet-config"] = exc.reason


def process_file(files: HostFiles, pid: int, path: str) -> str | None:
    """A file as process ``pid`` sees it (inside its container). On the live host the
    kernel resolves ``/proc/<pid>/root``; below another root, links stay inside that root."""
    if pid and files.root == Path("/"):
        try:
            data = read_regular(f"/proc/{pid}/root{path}", MAX_TEXT_BYTES, path)
        except InputError:
            return None
        return data.decode("utf-8", "replace")
    return files.read_text(f"/proc/{pid}/root{path}" if pid else path)


def _read_proxy_config(facts: NodeFacts) -> None:
    proxy = facts.components.get(parts.PROXY)
    path = proxy.value("config") if proxy else None
    if proxy is None or not path:
        return
    try:
        text = process_file(facts.files, proxy.pid, path)
    except Unassessable as exc:
        facts.errors["kube-proxy-config"] = exc.reason
        return
    if text is None:
        facts.errors["kube-proxy-config"] = f"kube-proxy's --config {path} cannot be read"
        return
    try:
        documents = read_yaml(text, path, max_documents=1)
    except InputError as exc:
        facts.errors["kube-proxy-config"] = exc.message
        return
    document: Any = documents[0] if documents else {}
    if isinstance(document, dict):
        facts.proxy_config = (path, document)
    else:
        facts.errors["kube-proxy-config"] = f"{path} is not a KubeProxyConfiguration"


def _first_line(facts: NodeFacts, path: str) -> str:
    try:
        text = facts.files.read_text(path) or ""
    except Unassessable:
        return ""
    return text.strip().split("\n", 1)[0][:253]


def _hostname(facts: NodeFacts) -> str:
    kubelet = facts.components.get(parts.KUBELET)
    override = kubelet.value("hostname-override") if kubelet else None
    return override or _first_line(facts, "/etc/hostname")


def _api_server(facts: NodeFacts) -> str:
    """The ``server`` of the kubelet's kubeconfig (its current context's cluster)."""
    kubelet = facts.components.get(parts.KUBELET)
    path = (kubelet.value("kubeconfig") if kubelet else None) or facts.paths.kubelet_kubeconfig
    try:
        text = facts.files.read_text(path)
        documents = read_yaml(text or "", path, max_documents=1)
    except (Unassessable, InputError):
        return ""
    config = documents[0] if documents else None
    clusters = config.get("clusters") if isinstance(config, dict) else None
    if not isinstance(clusters, list) or not clusters or not isinstance(clusters[0], dict):
        return ""
    cluster = clusters[0].get("cluster")
    server = cluster.get("server") if isinstance(cluster, dict) else None
    return str(server)[:500] if isinstance(server, str) else ""
