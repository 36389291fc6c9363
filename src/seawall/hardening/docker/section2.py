"""CIS Docker Benchmark section 2: the Docker daemon's configuration (its command line merged
with daemon.json, and what ``docker info`` reports)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from seawall.hardening.benchmark import Result, verdict
from seawall.hardening.docker.daemonconfig import Setting
from seawall.hardening.docker.facts import HostFacts
from seawall.hardening.docker.registry import host_check
from seawall.model import Status

LOCAL_LOG_DRIVERS = frozenset({"json-file", "local", "none", ""})


def _shown(setting: Setting, key: str) -> str:
    return (
        setting.source if setting.is_set else f"{key} not set (default {json.dumps(setting.value)})"
    )


def _setting_check(
    check_id: str,
    key: str,
    default: Any,
    bad: Callable[[Any], bool],
    *,
    failure: Status = Status.FAIL,
) -> None:
    """A check that fails when the daemon setting ``key`` satisfies ``bad``."""

    @host_check(check_id, dockerd=True)
    def setting(facts: HostFacts) -> Result:
        value = facts.daemon.get(key, default)
        shown = _shown(value, key)
        return verdict(bad(value.value), shown, shown, failure=failure)


def _false(value: Any) -> bool:
    return str(value).strip().lower() in ("false", "0", "no", "off")


def _true(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes", "on")


def _empty(value: Any) -> bool:
    return not value


@host_check("2.1", api=True)
def rootless(facts: HostFacts) -> Result:
    if facts.engine_kind == "rootless":
        return Result(Status.PASS, "rootless mode (security option name=rootless)")
    if facts.engine_kind == "podman":
        return Result(Status.INFO, "Podman: rootless if its service runs as a regular user")
    return Result(Status.INFO, "the daemon runs as root; consider rootless mode")


@host_check("2.2", dockerd=True)
def icc(facts: HostFacts) -> Result:
    setting = facts.daemon.truthy("icc", True)
    bridge = facts.daemon.get("bridge", "docker0")
    note = " (the default bridge is disabled: --bridge=none)" if bridge.value == "none" else ""
    return verdict(setting.value, _shown(setting, "icc") + note, setting.source + note)


_setting_check("2.3", "log-level", "info", lambda v: str(v).lower() != "info")
_setting_check("2.4", "iptables", True, _false)
_setting_check("2.5", "insecure-registries", [], lambda v: bool(v))


@host_check("2.6", api=True)
def aufs(facts: HostFacts) -> Result:
    driver = str(facts.info.get("Driver", ""))
    return verdict(driver == "aufs", "storage driver aufs", f"storage driver {driver}")


@host_check("2.7", dockerd=True)
def tls(facts: HostFacts) -> Result:
    hosts = facts.daemon.get("hosts", [])
    values = hosts.value if isinstance(hosts.value, list) else [hosts.value]
    tcp = [str(h) for h in values if h and not str(h).startswith(("unix://", "fd://", "/"))]
    if facts.endpoint.startswith("tcp://") and facts.endpoint not in tcp:
        tcp.append(facts.endpoint)
    if not tcp:
        return Result(Status.NOT_APPLICABLE, "the daemon does not listen on TCP")
    verify = facts.daemon.truthy("tlsverify", False)
    if verify.value:
        return Result(Status.PASS, f"{', '.join(tcp)} with {verify.source}")
    with_tls = facts.daemon.truthy("tls", False)
    if with_tls.value:
        return Result(Status.FAIL, f"{', '.join(tcp)}: TLS without client verification")
    return Result(Status.FAIL, f"{', '.join(tcp)} without TLS")


_setting_check("2.8", "default-ulimits", {}, _empty, failure=Status.INFO)


@host_check("2.9", dockerd=True)
def userns(facts: HostFacts) -> Result:
    if facts.engine_kind == "rootless":
        return Result(Status.PASS, "rootless mode runs in a user namespace")
    setting = facts.daemon.get("userns-remap", "")
    return verdict(not setting.value, "userns-remap not set", setting.source)


_setting_check("2.10", "cgroup-parent", "", bool, failure=Status.WARN)
_setting_check(
    "2.11",
    "storage-opts",
    [],
    lambda v: any("dm.basesize" in str(o) for o in (v if isinstance(v, list) else [v])),
    failure=Status.WARN,
)
_setting_check("2.12", "authorization-plugins", [], _empty)


@host_check("2.13", api=True, dockerd=True)  # Podman: see docs/host-audit.md
def remote_logging(facts: HostFacts) -> Result:
    driver = str(facts.info.get("LoggingDriver", ""))
    return verdict(
        driver in LOCAL_LOG_DRIVERS,
        f"log driver {driver or 'unknown'} keeps logs on the host only",
        f"log driver {driver}",
    )


_setting_check("2.14", "no-new-privileges", False, lambda v: not _true(v))


@host_check("2.15", api=True, dockerd=True)  # Podman: see docs/host-audit.md
def live_restore(facts: HostFacts) -> Result:
    if facts.swarm_active:
        return Result(Status.PASS, "swarm mode is active (live restore is incompatible)")
    enabled = bool(facts.info.get("LiveRestoreEnabled"))
    return verdict(not enabled, "LiveRestoreEnabled: false", "LiveRestoreEnabled: true")


_setting_check("2.16", "userland-proxy", True, lambda v: not _false(v))


@host_check("2.17", api=True)
def seccomp_profile(facts: HostFacts) -> Result:
    option = facts.security_option("seccomp")
    return verdict(not option, "seccomp is not enabled on the daemon", option, failure=Status.INFO)


@host_check("2.18", api=True, dockerd=True)  # Podman: see docs/host-audit.md
def experimental(facts: HostFacts) -> Result:
    enabled = bool(facts.version.get("Experimental") or facts.info.get("ExperimentalBuild"))
    return verdict(enabled, "experimental features enabled", "experimental features disabled")
