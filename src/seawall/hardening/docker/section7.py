"""CIS Docker Benchmark section 7: swarm configuration (not applicable without swarm mode)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seawall.hardening.benchmark import Result, verdict
from seawall.hardening.docker.facts import HostFacts
from seawall.hardening.docker.registry import host_check
from seawall.hardening.errors import Unassessable
from seawall.model import Status

SWARM_PORTS = frozenset({"2377", "7946"})  # cluster management, node gossip
NANOSECONDS_PER_DAY = 86_400 * 10**9


def _swarm_check(
    check_id: str, *, manager: bool = True
) -> Callable[[Callable[[HostFacts], Result]], None]:
    """Register a swarm check: not applicable when swarm mode is inactive; ``manager``
    checks need the manager's data."""

    def register(function: Callable[[HostFacts], Result]) -> None:
        @host_check(check_id, api=True)
        def swarm(facts: HostFacts) -> Result:
            if not facts.swarm_active:
                return Result(Status.NOT_APPLICABLE, "swarm mode is inactive")
            if manager and facts.swarm_error:
                raise Unassessable(facts.swarm_error)
            return function(facts)

    return register


def _manual(check_id: str, note: str) -> None:
    _swarm_check(check_id, manager=False)(lambda facts: Result(Status.MANUAL, note))


@_swarm_check("7.1")
def managers(facts: HostFacts) -> Result:
    roles = [n.get("Spec", {}).get("Role") for n in facts.swarm_nodes]
    count = roles.count("manager")
    return verdict(
        count % 2 == 0 or count > 7,
        f"{count} managers (want an odd number, at most 7)",
        f"{count} managers",
    )


@_swarm_check("7.2", manager=False)
def listen_address(facts: HostFacts) -> Result:
    """The swarm's listeners (cluster management, default 2377, and node gossip, 7946) must
    not take every interface. With dockerd's pid known they are its TCP listeners other than
    its API endpoints (``--listen-addr`` may move 2377); otherwise ports 2377 and 7946."""
    if facts.dockerd_pid:
        api_ports = {_port(h) for h in _api_hosts(facts)}
        swarm = sorted(a for a in facts.listening if _port(a) not in api_ports)
    else:
        swarm = sorted(a for a in facts.listening if _port(a) in SWARM_PORTS)
    if not swarm:
        raise Unassessable("no swarm listener found (dockerd's sockets could not be read)")
    wildcard = [a for a in swarm if a.startswith("*:")]
    return verdict(
        bool(wildcard),
        f"swarm ports listen on every interface: {', '.join(wildcard)}",
        f"swarm ports bound to {', '.join(swarm)}",
    )


def _port(address: str) -> str:
    return address.rsplit(":", 1)[-1]


def _api_hosts(facts: HostFacts) -> list[str]:
    try:
        hosts = facts.daemon.get("hosts", []).value
    except Unassessable:
        hosts = []
    values = hosts if isinstance(hosts, list) else [hosts]
    return [str(h) for h in [*values, facts.endpoint] if str(h).startswith("tcp://")]


@_swarm_check("7.3", manager=False)
def overlay_encryption(facts: HostFacts) -> Result:
    clear = [
        str(n.get("Name"))
        for n in facts.networks
        if n.get("Driver") == "overlay" and n.get("Name") != "ingress"
        and "encrypted" not in (n.get("Options") or {})
    ]  # fmt: skip
    return verdict(
        bool(clear), f"unencrypted overlay networks: {', '.join(clear)}",
        "every overlay network is encrypted",
    )  # fmt: skip


@_swarm_check("7.4")
def secrets(facts: HostFacts) -> Result:
    return verdict(
        facts.swarm_secrets == 0, "no swarm secrets in use",
        f"{facts.swarm_secrets} swarm secrets", failure=Status.INFO,
    )  # fmt: skip


@_swarm_check("7.5")
def autolock(facts: HostFacts) -> Result:
    return verdict(
        not facts.swarm_unlock_key.startswith("SWMKEY"),
        "auto-lock is off (no unlock key)",
        "auto-lock is on",
    )


_manual("7.6", "rotate the unlock key periodically (docker swarm unlock-key --rotate)")


@_swarm_check("7.7")
def node_certificates(facts: HostFacts) -> Result:
    spec: dict[str, Any] = facts.swarm.get("Spec") or {}
    expiry = int((spec.get("CAConfig") or {}).get("NodeCertExpiry") or 0)
    days = expiry / NANOSECONDS_PER_DAY
    return verdict(
        days > 2 or not expiry,
        f"node certificates expire after {days:g} days: confirm the rotation period",
        f"node certificates expire after {days:g} days",
        failure=Status.INFO,
    )


_manual("7.8", "rotate the swarm CA periodically (docker swarm ca --rotate)")
_manual("7.9", "confirm --data-path-addr separates data traffic from management traffic")
