"""CIS Docker Benchmark section 5: container run-time settings, from inspect data (and the
process list of running containers for sshd)."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

from seawall.hardening.benchmark import Result, verdict
from seawall.hardening.docker.facts import ContainerFacts, HostFacts
from seawall.hardening.docker.registry import container_check, host_check, manual_check
from seawall.hardening.errors import Unassessable
from seawall.model import Status

DEFAULT_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
        "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    }
)  # fmt: skip
SENSITIVE_DIRECTORIES = ("/", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr")
WILDCARD_ADDRESSES = frozenset({"", "0.0.0.0", "::"})  # noqa: S104  (addresses, not binds)


@host_check("5.1", api=True)
def swarm_mode(facts: HostFacts) -> Result:
    state = (facts.info.get("Swarm") or {}).get("LocalNodeState", "inactive")
    return verdict(
        facts.swarm_active,
        f"swarm mode {state}: confirm it is needed",
        f"swarm mode {state}",
        failure=Status.WARN,
    )


def _host_mode(check_id: str, field: str, flag: str) -> None:
    """The container must not share a host namespace (``HostConfig.<field>`` == host)."""

    @container_check(check_id)
    def namespace(container: ContainerFacts, facts: HostFacts) -> Result:
        mode = str(container.host_config.get(field) or "")
        shown = f"{field}={mode or '(default)'}"
        return verdict(mode == "host", f"{shown} ({flag} host)", shown)


@container_check("5.2")
def apparmor(container: ContainerFacts, facts: HostFacts) -> Result:
    if not facts.security_option("apparmor"):
        return Result(Status.NOT_APPLICABLE, "AppArmor is not enabled on this host")
    profile = str(container.inspect.get("AppArmorProfile") or "")
    return verdict(
        profile in ("", "unconfined"),
        f"AppArmorProfile={profile or '(none)'}",
        f"AppArmorProfile={profile}",
    )


@container_check("5.3")
def selinux(container: ContainerFacts, facts: HostFacts) -> Result:
    if not facts.security_option("selinux"):
        return Result(Status.NOT_APPLICABLE, "SELinux is not enabled in the daemon")
    options = container.host_config.get("SecurityOpt") or []
    labels = [o for o in options if str(o).startswith("label")]
    return verdict(not labels, "no SELinux label options", " ".join(labels))


@container_check("5.4")
def capabilities(container: ContainerFacts, facts: HostFacts) -> Result:
    added = [str(c).upper().removeprefix("CAP_") for c in container.host_config.get("CapAdd") or []]
    extra = sorted(c for c in added if c not in DEFAULT_CAPABILITIES)
    return verdict(
        bool(extra),
        f"CapAdd beyond the defaults: {', '.join(extra)}",
        f"CapAdd={','.join(added) or '(none)'}",
    )


@container_check("5.5")
def privileged(container: ContainerFacts, facts: HostFacts) -> Result:
    on = bool(container.host_config.get("Privileged"))
    return verdict(on, "Privileged=true", "Privileged=false")


def _mounts(container: ContainerFacts) -> list[dict[str, Any]]:
    return [m for m in container.inspect.get("Mounts") or [] if isinstance(m, dict)]


def _sensitive(source: str) -> bool:
    path = posixpath.normpath(source or "/")
    return any(path == d or (d != "/" and path.startswith(d + "/")) for d in SENSITIVE_DIRECTORIES)


@container_check("5.6")
def sensitive_mounts(container: ContainerFacts, facts: HostFacts) -> Result:
    writable = [
        f"{m.get('Source')}:{m.get('Destination')}:rw"
        for m in _mounts(container)
        if m.get("Type") == "bind" and m.get("RW") and _sensitive(str(m.get("Source", "")))
    ]
    return verdict(
        bool(writable),
        f"sensitive host paths mounted read-write: {', '.join(writable)}",
        "no sensitive host path mounted read-write",
    )


def _is_sshd(row: tuple[str, ...]) -> bool:
    words = " ".join(row[1:] if len(row) > 1 else row).split()
    return any(posixpath.basename(word) == "sshd" for word in words)


@container_check("5.7")
def sshd(container: ContainerFacts, facts: HostFacts) -> Result:
    if not container.running:
        return Result(Status.NOT_APPLICABLE, "not running: no processes to list")
    if container.process_error:
        raise Unassessable(f"cannot list processes: {container.process_error}")
    found = [" ".join(row) for row in container.processes if _is_sshd(row)]
    return verdict(
        bool(found),
        f"sshd running: {found[0]}" if found else "",
        f"no sshd among {len(container.processes)} processes",
    )


def published_ports(container: ContainerFacts) -> list[tuple[str, str, str]]:
    """(container port, host address, host port) of the published ports: the live mapping
    when running, the configured one otherwise."""
    live = (container.inspect.get("NetworkSettings") or {}).get("Ports") or {}
    configured = container.host_config.get("PortBindings") or {}
    bindings = live if any(live.values()) else configured
    return [
        (port, str(b.get("HostIp") or ""), str(b.get("HostPort") or ""))
        for port, values in sorted(bindings.items())
        for b in values or []
    ]


def _port_check(
    check_id: str,
    bad: Callable[[str, str], bool],
    message: str,
    *,
    failure: Status = Status.FAIL,
) -> None:
    """A check of each published port (host address, host port)."""

    @container_check(check_id)
    def ports(container: ContainerFacts, facts: HostFacts) -> Result:
        published = published_ports(container)
        shown = [f"{address or '*'}:{host}->{port}" for port, address, host in published]
        flagged = [s for s, (_, a, h) in zip(shown, published, strict=True) if bad(a, h)]
        return verdict(
            bool(flagged),
            f"{message}: {', '.join(flagged)}",
            f"published: {', '.join(shown)}" if shown else "no published ports",
            failure=failure,
        )


def _privileged_port(address: str, port: str) -> bool:
    return port.isdigit() and 0 < int(port) < 1024


_port_check("5.8", lambda a, p: _privileged_port(a, p), "host ports below 1024")
_port_check("5.9", lambda a, p: True, "review the published ports", failure=Status.WARN)
_host_mode("5.10", "NetworkMode", "--network")


def _limit_check(check_id: str, fields: tuple[str, ...], what: str) -> None:
    """The container must set at least one of ``fields`` (non-zero) in HostConfig."""

    @container_check(check_id)
    def limit(container: ContainerFacts, facts: HostFacts) -> Result:
        values = {f: container.host_config.get(f) or 0 for f in fields}
        set_values = [f"{f}={v}" for f, v in values.items() if v and v != -1]
        return verdict(
            not set_values, f"no {what} ({', '.join(f'{f}=0' for f in fields)})",
            ", ".join(set_values),
        )  # fmt: skip


_limit_check("5.11", ("Memory",), "memory limit")
_limit_check("5.12", ("CpuShares", "NanoCpus", "CpuQuota"), "CPU shares or limit")


@container_check("5.13")
def read_only(container: ContainerFacts, facts: HostFacts) -> Result:
    on = bool(container.host_config.get("ReadonlyRootfs"))
    return verdict(not on, "ReadonlyRootfs=false", "ReadonlyRootfs=true")


_port_check("5.14", lambda a, p: a in WILDCARD_ADDRESSES, "bound to every interface")


@container_check("5.15")
def restart_policy(container: ContainerFacts, facts: HostFacts) -> Result:
    policy = container.host_config.get("RestartPolicy") or {}
    name = str(policy.get("Name") or "no")
    retries = int(policy.get("MaximumRetryCount") or 0)
    shown = f"RestartPolicy={name}" + (f":{retries}" if name == "on-failure" else "")
    unbounded = name in ("always", "unless-stopped") or (
        name == "on-failure" and not 0 < retries <= 5
    )
    return verdict(unbounded, f"{shown} (want on-failure:5 or fewer)", shown)


_host_mode("5.16", "PidMode", "--pid")
_host_mode("5.17", "IpcMode", "--ipc")


@container_check("5.18")
def devices(container: ContainerFacts, facts: HostFacts) -> Result:
    mapped = [
        f"{d.get('PathOnHost')}:{d.get('PathInContainer')}:{d.get('CgroupPermissions')}"
        for d in container.host_config.get("Devices") or []
    ]
    return verdict(
        bool(mapped),
        f"host devices: {', '.join(mapped)}",
        "no host devices",
        failure=Status.INFO,
    )


@container_check("5.19")
def ulimits(container: ContainerFacts, facts: HostFacts) -> Result:
    limits = [f"{u.get('Name')}={u.get('Soft')}:{u.get('Hard')}" for u in
              container.host_config.get("Ulimits") or []]  # fmt: skip
    return verdict(
        not limits, "no run-time ulimits (daemon defaults apply)", ", ".join(limits),
        failure=Status.INFO,
    )  # fmt: skip


@container_check("5.20")
def propagation(container: ContainerFacts, facts: HostFacts) -> Result:
    shared = [
        f"{m.get('Destination')}:{m.get('Propagation')}"
        for m in _mounts(container)
        if str(m.get("Propagation", "")) in ("shared", "rshared")
    ]
    return verdict(bool(shared), f"shared propagation: {', '.join(shared)}", "no shared mounts")


_host_mode("5.21", "UTSMode", "--uts")


def _security_options(container: ContainerFacts) -> list[str]:
    return [str(o) for o in container.host_config.get("SecurityOpt") or []]


@container_check("5.22")
def seccomp(container: ContainerFacts, facts: HostFacts) -> Result:
    options = _security_options(container)
    off = [o for o in options if o.replace(":", "=") == "seccomp=unconfined"]
    if container.host_config.get("Privileged"):
        off.append("Privileged=true (no seccomp filter)")
    return verdict(bool(off), ", ".join(off), "default seccomp profile in effect")


manual_check("5.23", "audit docker exec events for --privileged (e.g. seawall runtime rules)")
manual_check("5.24", "audit docker exec events for --user=root (e.g. seawall runtime rules)")


@container_check("5.25")
def cgroup_parent(container: ContainerFacts, facts: HostFacts) -> Result:
    parent = str(container.host_config.get("CgroupParent") or "")
    return verdict(
        bool(parent), f"CgroupParent={parent}: confirm it", "default cgroup parent",
        failure=Status.WARN,
    )  # fmt: skip


@container_check("5.26")
def no_new_privileges(container: ContainerFacts, facts: HostFacts) -> Result:
    try:
        daemon = facts.daemon.truthy("no-new-privileges", False)
    except Unassessable:
        daemon = None
    if daemon is not None and daemon.value:
        return Result(Status.PASS, f"daemon-wide: {daemon.source}")
    options = [o for o in _security_options(container) if o.startswith("no-new-privileges")]
    enabled = any(o.replace(":", "=") in ("no-new-privileges", "no-new-privileges=true")
                  for o in options)  # fmt: skip
    return verdict(
        not enabled, "no-new-privileges not set (container or daemon)", " ".join(options)
    )


@container_check("5.27")
def health(container: ContainerFacts, facts: HostFacts) -> Result:
    status = ((container.inspect.get("State") or {}).get("Health") or {}).get("Status")
    test = (container.config.get("Healthcheck") or {}).get("Test") or []
    if status:
        return Result(Status.PASS, f"health: {status}")
    if test and test[0] != "NONE":
        return Result(Status.PASS, f"health check: {' '.join(test)}")
    return Result(Status.FAIL, "no health check")


manual_check("5.28", "pull images before running them (docker pull, --pull always)")


@container_check("5.29")
def pids_limit(container: ContainerFacts, facts: HostFacts) -> Result:
    limit = container.host_config.get("PidsLimit")
    return verdict(limit in (None, 0, -1), f"PidsLimit={limit}", f"PidsLimit={limit}")


@host_check("5.30", api=True)
def default_bridge(facts: HostFacts) -> Result:
    for network in facts.networks:
        options = network.get("Options") or {}
        if options.get("com.docker.network.bridge.name") == "docker0":
            attached = facts_attached(facts, str(network.get("Name", "bridge")))
            return verdict(
                bool(attached), f"on docker0: {', '.join(attached)}",
                "docker0 exists, no container uses it", failure=Status.INFO,
            )  # fmt: skip
    return Result(Status.PASS, "no docker0 bridge network")


def facts_attached(facts: HostFacts, network: str) -> list[str]:
    """Names of the assessed containers attached to ``network``."""
    return [
        c.name
        for c in facts.containers
        if network in ((c.inspect.get("NetworkSettings") or {}).get("Networks") or {})
        or c.host_config.get("NetworkMode") in (network, "default")
    ]


_host_mode("5.31", "UsernsMode", "--userns")


@container_check("5.32")
def docker_socket(container: ContainerFacts, facts: HostFacts) -> Result:
    sockets = [
        f"{m.get('Source')}:{m.get('Destination')}"
        for m in _mounts(container)
        if str(m.get("Source", "")).endswith("docker.sock")
    ]
    return verdict(bool(sockets), f"docker.sock mounted: {', '.join(sockets)}", "not mounted")
