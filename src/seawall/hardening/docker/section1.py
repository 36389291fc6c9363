"""CIS Docker Benchmark section 1: host configuration (partition, docker group, audit rules)."""

from __future__ import annotations

import datetime
import posixpath
import re
from collections.abc import Callable

from seawall.hardening import systemd
from seawall.hardening.benchmark import Result, verdict
from seawall.hardening.docker.facts import HostFacts
from seawall.hardening.docker.registry import host_check, manual_check
from seawall.hardening.errors import Unassessable
from seawall.model import Status

CONTAINERD_SOCKET = "/run/containerd/containerd.sock"


def unit_file(facts: HostFacts, unit: str) -> str:
    """The host path of systemd ``unit`` (first found in systemd's search order), or ""."""
    return systemd.unit_file(facts.files, unit)


def docker_root_dir(facts: HostFacts) -> str:
    """The daemon's data root; with user namespace remapping, the parent of the remapped one."""
    facts.require_api()
    root = str(facts.info.get("DockerRootDir") or "/var/lib/docker")
    return posixpath.dirname(root) if facts.security_option("userns") else root


@host_check("1.1.1", api=True, dockerd=True)
def separate_partition(facts: HostFacts) -> Result:
    root = docker_root_dir(facts)
    device, parent = facts.files.device(root), facts.files.device(posixpath.dirname(root))
    if device is None:
        raise Unassessable(f"{root} does not exist under {facts.files.root}")
    return verdict(
        device == parent,
        f"{root} is on the same filesystem as {posixpath.dirname(root)}",
        f"{root} is a separate filesystem",
    )


@host_check("1.1.2")
def trusted_users(facts: HostFacts) -> Result:
    group = facts.files.groups.get("docker")
    if group is None:
        return Result(Status.PASS, "no docker group: only root controls the daemon")
    primary = [u for u, (_, gid) in facts.files.users.items() if gid == group.gid]
    members = sorted({*group.members, *primary})
    listed = ", ".join(members) or "none"
    if not facts.trusted_users:
        return Result(Status.INFO, f"docker group members: {listed} (give --trusted-users)")
    untrusted = [m for m in members if m not in facts.trusted_users]
    return verdict(
        bool(untrusted),
        f"untrusted docker group members: {', '.join(untrusted)}",
        f"docker group members are trusted: {listed}",
    )


def _audit_check(check_id: str, paths: Callable[[HostFacts], list[str]]) -> None:
    """An audit-rule check: pass if a rule watches one of ``paths``, not applicable if none
    exists on the host."""

    @host_check(check_id)
    def audited(facts: HostFacts) -> Result:
        if facts.audit is None:
            raise Unassessable(facts.audit_error)
        candidates = [p for p in paths(facts) if p]
        rule = facts.audit.rule_for(*candidates)
        if rule:
            return Result(Status.PASS, f"{rule} ({facts.audit.source})")
        present = [p for p in candidates if facts.files.exists(p)]
        if not present:
            shown = " or ".join(candidates) or "the file"
            return Result(Status.NOT_APPLICABLE, f"{shown} does not exist on this host")
        return Result(Status.FAIL, f"no audit rule watches {present[0]} ({facts.audit.source})")


def _binary(name: str) -> Callable[[HostFacts], list[str]]:
    return lambda facts: [f"/usr/bin/{name}", f"/usr/sbin/{name}", f"/usr/local/bin/{name}"]


def _fixed(path: str) -> Callable[[HostFacts], list[str]]:
    return lambda facts: [path]


def _data_root(facts: HostFacts) -> list[str]:
    try:
        return [docker_root_dir(facts), "/var/lib/docker"]
    except Unassessable:
        return ["/var/lib/docker"]


_AUDITED: dict[str, Callable[[HostFacts], list[str]]] = {
    "1.1.3": lambda facts: [facts.dockerd_exe, *_binary("dockerd")(facts)],
    "1.1.4": _fixed("/run/containerd"),
    "1.1.5": _data_root,
    "1.1.6": _fixed("/etc/docker"),
    "1.1.7": lambda facts: [unit_file(facts, "docker.service")],
    "1.1.8": _fixed(CONTAINERD_SOCKET),
    "1.1.9": lambda facts: [unit_file(facts, "docker.socket")],
    "1.1.10": _fixed("/etc/default/docker"),
    "1.1.11": lambda facts: [facts.daemon.config_file],
    "1.1.12": _fixed("/etc/containerd/config.toml"),
    "1.1.13": _fixed("/etc/sysconfig/docker"),
    "1.1.14": _binary("containerd"),
    "1.1.15": _binary("containerd-shim"),
    "1.1.16": _binary("containerd-shim-runc-v1"),
    "1.1.17": _binary("containerd-shim-runc-v2"),
    "1.1.18": _binary("runc"),
}
for _id, _paths in _AUDITED.items():
    _audit_check(_id, _paths)

manual_check("1.2.1", "host hardening is assessed with the OS's own benchmark")


@host_check("1.2.2", api=True)
def version_current(facts: HostFacts) -> Result:
    version = str(facts.version.get("Version", ""))
    match = re.match(r"(\d+)\.(\d+)", version)
    if facts.engine_kind == "podman" or not match or int(match.group(1)) < 17:
        return Result(Status.INFO, f"server version {version}: compare with the vendor's")
    major, minor = int(match.group(1)), int(match.group(2))
    if major >= 23:  # since 23.0 versions are semantic, not dates
        return Result(Status.INFO, f"server version {version}: compare with the current release")
    released = datetime.date(2000 + major, max(1, min(minor, 12)), 1)
    age = (datetime.datetime.now(datetime.UTC).date() - released).days // 30
    return Result(
        Status.INFO,
        f"server version {version}, a release line about {age} months old: "
        "compare with the current Docker Engine release",
    )
