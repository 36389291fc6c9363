"""The components of a node and the flags each runs with.

A running process is what is in effect, so its command line comes first. Without one (a
node filesystem mounted at ``--root`` and no ``proc`` tree, or a component that is down),
a control-plane component is read from its static pod manifest and the kubelet from its
systemd unit. Every value keeps where it was read: that is the finding's evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from seawall.errors import InputError
from seawall.hardening import systemd
from seawall.hardening.commandline import parse_flags
from seawall.hardening.errors import Unassessable
from seawall.hardening.hostfiles import HostFiles
from seawall.hardening.processes import Process, environment
from seawall.safety.yaml import read_yaml

APISERVER = "kube-apiserver"
CONTROLLER_MANAGER = "kube-controller-manager"
SCHEDULER = "kube-scheduler"
ETCD = "etcd"
KUBELET = "kubelet"
PROXY = "kube-proxy"
CONTROL_PLANE = (APISERVER, CONTROLLER_MANAGER, SCHEDULER)
STATIC_PODS = (*CONTROL_PLANE, ETCD)
ETCD_VARIABLES = "ETCD_"  # etcd reads each flag from ETCD_<FLAG> too (a flag wins)
ALL = (*STATIC_PODS, KUBELET, PROXY)

# Flags that take no value (``--profiling`` alone means true).
_BOOLEANS = frozenset(
    {
        "anonymous-auth", "profiling", "client-cert-auth", "peer-client-cert-auth", "auto-tls",
        "peer-auto-tls", "service-account-lookup", "use-service-account-credentials",
        "rotate-certificates", "make-iptables-util-chains", "protect-kernel-defaults",
        "seccomp-default", "service-account-extend-token-expiration", "allow-privileged",
        "enable-bootstrap-token-auth", "enable-server", "fail-swap-on", "leader-elect",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Component:
    """One component as found: its flags by name (every value, in order), its environment,
    and where they were read (``kube-apiserver process 1234``, a manifest, a unit)."""

    name: str
    flags: dict[str, list[str]]
    source: str
    environment: dict[str, str] = field(default_factory=dict)
    pid: int = 0

    def value(self, flag: str) -> str | None:
        """The value in effect for ``flag`` (the last one given), None if not given."""
        values = self.flags.get(flag)
        return values[-1] if values else None

    def setting(self, flag: str, variables: str = "") -> tuple[str | None, str]:
        """The value of ``--flag``, else of its ``<variables><FLAG>`` environment variable
        (for a component that reads both, as etcd does), and the evidence."""
        value = self.value(flag)
        variable = variables + flag.upper().replace("-", "_")
        if value is None and variables and variable in self.environment:
            value = self.environment[variable]
            return value, f"{variable}={value} ({self.source})"
        return value, self.shown(flag)

    def shown(self, flag: str) -> str:
        """``--flag=value (source)`` or ``--flag is not set (source)``: evidence."""
        value = self.value(flag)
        if value is None:
            return f"--{flag} is not set ({self.source})"
        return f"--{flag}={value} ({self.source})"


def flags_of(argv: Sequence[str]) -> dict[str, list[str]]:
    """The flags of a Kubernetes component's argv (argv[0] excluded)."""
    return parse_flags(argv, booleans=_BOOLEANS)


def from_process(files: HostFiles, name: str, processes: Sequence[Process]) -> Component | None:
    """The first process running ``name`` (by program name, or as a hyperkube subcommand)."""
    for process in processes:
        argv = list(process.argv)
        if process.program == "hyperkube" and len(argv) > 1:
            argv = [argv[1], *argv[2:]]
        if argv and argv[0].rsplit("/", 1)[-1] == name:
            return Component(
                name=name,
                flags=flags_of(argv[1:]),
                source=f"{name} process {process.pid}",
                environment=environment(files, process.pid),
                pid=process.pid,
            )
    return None


def _container(pod: Any, name: str, source: str) -> dict[str, Any]:
    if not isinstance(pod, dict) or pod.get("kind") != "Pod":
        raise Unassessable(f"{source} is not a Pod manifest")
    containers = (pod.get("spec") or {}).get("containers") or []
    if not isinstance(containers, list) or not containers:
        raise Unassessable(f"{source}: the pod has no containers")
    chosen = next((c for c in containers if isinstance(c, dict) and c.get("name") == name), None)
    chosen = chosen or containers[0]
    if not isinstance(chosen, dict):
        raise Unassessable(f"{source}: malformed container")
    return chosen


def component_of_pod(pod: Any, name: str, source: str) -> Component:
    """The component a static pod runs (its container's command and args, and env), as
    read from the manifest on disk or from the mirror pod the API server lists."""
    container = _container(pod, name, source)
    words = [*(container.get("command") or []), *(container.get("args") or [])]
    argv = [str(word) for word in words]
    if argv and argv[0].rsplit("/", 1)[-1] == name:
        argv = argv[1:]
    env = {
        str(item.get("name")): str(item.get("value", ""))
        for item in container.get("env") or []
        if isinstance(item, dict) and item.get("name")
    }
    return Component(name=name, flags=flags_of(argv), source=source, environment=env)


def from_manifest(files: HostFiles, name: str, path: str) -> Component | None:
    """The component of a static pod manifest; None if the file does not exist,
    Unassessable if it cannot be read or is not a Pod."""
    text = files.read_text(path)
    if text is None:
        return None
    try:
        documents = read_yaml(text, path, max_documents=1)
    except InputError as exc:
        raise Unassessable(exc.message) from None
    return component_of_pod(documents[0] if documents else None, name, path)


def from_unit(files: HostFiles, name: str, unit: str) -> Component | None:
    """The component a systemd unit starts, flags expanded from its environment; None when
    the unit runs another program (k3s.service runs k3s, which embeds the kubelet)."""
    command = systemd.service_command(files, unit)
    if not command.argv or command.argv[0].rsplit("/", 1)[-1] != name:
        return None
    return Component(
        name=name, flags=flags_of(command.argv[1:]), source=" + ".join(command.sources)
    )
