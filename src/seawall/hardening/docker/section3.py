"""CIS Docker Benchmark section 3: owners and modes of the daemon's files."""

from __future__ import annotations

from collections.abc import Callable

from seawall.hardening.benchmark import Result
from seawall.hardening.docker.collect import DEFAULT_SOCKETS
from seawall.hardening.docker.facts import HostFacts
from seawall.hardening.docker.registry import host_check
from seawall.hardening.docker.section1 import CONTAINERD_SOCKET, unit_file
from seawall.hardening.hostfiles import FileInfo
from seawall.model import Status

# A path finder returns the host paths to assess, or a reason why none applies.
Paths = Callable[[HostFacts], list[str] | str]


def _assess(check_id: str, paths: Paths, accept: Callable[[FileInfo], bool], wanted: str) -> None:
    @host_check(check_id, dockerd=True, rootful=True)
    def files(facts: HostFacts) -> list[Result]:
        found = paths(facts)
        if isinstance(found, str):
            return [Result(Status.NOT_APPLICABLE, found)]
        infos = [facts.files.stat(p) for p in found]
        present = [i for i in infos if i is not None]
        if not present:
            return [Result(Status.NOT_APPLICABLE, f"{' '.join(found)} does not exist")]
        bad = [i for i in present if not accept(i)]
        shown = "; ".join(i.describe for i in (bad or present))
        if bad:
            return [Result(Status.FAIL, f"{shown} (want {wanted})")]
        return [Result(Status.PASS, shown)]


def _owner(check_id: str, paths: Paths, groups: tuple[str, ...] = ("root",)) -> None:
    _assess(
        check_id,
        paths,
        lambda i: i.uid == 0 and i.group in groups,
        "root:" + " or root:".join(groups),
    )


def _mode(check_id: str, paths: Paths, most: int) -> None:
    _assess(check_id, paths, lambda i: i.mode & ~most == 0, f"{most:o} or stricter")


def _unit(name: str) -> Paths:
    return lambda facts: [unit_file(facts, name)] if unit_file(facts, name) else f"no {name} unit"


def _fixed(path: str) -> Paths:
    return lambda facts: [path]


def _registry_certificates(facts: HostFacts) -> list[str] | str:
    base = "/etc/docker/certs.d"
    found = [
        f"{base}/{registry}/{name}"
        for registry in facts.files.list_dir(base)
        for name in facts.files.list_dir(f"{base}/{registry}")
        if name.endswith((".crt", ".cert", ".pem"))
    ]
    return found or f"no registry certificates in {base}"


def _tls_file(key: str) -> Paths:
    def find(facts: HostFacts) -> list[str] | str:
        setting = facts.daemon.get(key, "")
        return [str(setting.value)] if setting.value else f"{key} is not configured"

    return find


def docker_socket(facts: HostFacts) -> list[str] | str:
    if facts.endpoint.startswith("unix://"):
        return [facts.endpoint.removeprefix("unix://")]
    return [DEFAULT_SOCKETS[0]]


def containerd_socket(facts: HostFacts) -> list[str] | str:
    configured = facts.daemon.flags.get("containerd") or facts.daemon.json.get("containerd")
    if configured:
        return [str(configured[-1] if isinstance(configured, list) else configured)]
    exec_root = str(facts.daemon.get("exec-root", "/var/run/docker").value)
    return [CONTAINERD_SOCKET, f"{exec_root}/containerd/containerd.sock"]


_owner("3.1", _unit("docker.service"))
_mode("3.2", _unit("docker.service"), 0o644)
_owner("3.3", _unit("docker.socket"))
_mode("3.4", _unit("docker.socket"), 0o644)
_owner("3.5", _fixed("/etc/docker"))
_mode("3.6", _fixed("/etc/docker"), 0o755)
_owner("3.7", _registry_certificates)
_mode("3.8", _registry_certificates, 0o444)
_owner("3.9", _tls_file("tlscacert"))
_mode("3.10", _tls_file("tlscacert"), 0o444)
_owner("3.11", _tls_file("tlscert"))
_mode("3.12", _tls_file("tlscert"), 0o444)
_owner("3.13", _tls_file("tlskey"))
_mode("3.14", _tls_file("tlskey"), 0o400)
# root:docker lets the docker group use the socket; root:root is stricter still.
_owner("3.15", docker_socket, ("docker", "root"))
_mode("3.16", docker_socket, 0o660)
_owner("3.17", lambda facts: [facts.daemon.config_file])
_mode("3.18", lambda facts: [facts.daemon.config_file], 0o644)
_owner("3.19", _fixed("/etc/default/docker"))
_mode("3.20", _fixed("/etc/default/docker"), 0o644)
_mode("3.21", _fixed("/etc/sysconfig/docker"), 0o644)
_owner("3.22", _fixed("/etc/sysconfig/docker"))
_owner("3.23", containerd_socket)
_mode("3.24", containerd_socket, 0o660)
