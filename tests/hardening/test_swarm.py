"""Section 7 against a real swarm: a private test engine (``$SEAWALL_TESTENV-s``, no bridge,
no iptables) runs ``docker swarm init --advertise-addr 127.0.0.1 --listen-addr
127.0.0.1:PORT``, then overlay networks, a secret, auto-lock and a shorter certificate
expiry are added one by one and each 7.x status is checked against the benchmark's intent.

Swarm mode works with ``--bridge=none --iptables=false`` (it creates docker_gwbridge and
ingress itself). The node gossip port 7946 cannot be chosen, so runs of this test on one
machine are serialised by a lock file."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from seawall.hardening.docker.audit import AuditOptions, audit_host
from seawall.hardening.docker.collect import CollectOptions, collect
from tests.hardening.conftest import free_port
from tests.support.testenv import SeawallTestEnv

LOCK = Path("/tmp/seawall-swarm-7946.lock")


@pytest.fixture(scope="module")
def swarm(
    host_env_factory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SeawallTestEnv, int]]:
    daemon_json = tmp_path_factory.mktemp("swarm") / "daemon.json"
    daemon_json.write_text("{}")
    env = host_env_factory("s", daemon_json)
    port = free_port()
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _init_swarm(env, f"127.0.0.1:{port}")
        try:
            yield env, port
        finally:
            env.docker("swarm", "leave", "--force")


def _init_swarm(env: SeawallTestEnv, listen_address: str) -> None:
    """``docker swarm init`` listening on ``listen_address``, then wait (at most 60 s: a
    bound, not a timing) until dockerd owns the manager's listening socket, reading what
    the audit reads: it is bound a moment after init returns. Node gossip (7946) starts
    with the node's networking, which on a busy machine can take longer still, or not
    happen before the test ends: the assertions accept it either way."""
    env.docker("swarm", "init", "--advertise-addr", "127.0.0.1",
               "--listen-addr", listen_address)  # fmt: skip
    port = listen_address.rsplit(":", 1)[1]
    deadline = time.monotonic() + 60
    options = CollectOptions(endpoint=env.docker_host)
    while port not in {a.rsplit(":", 1)[1] for a in collect(options).listening}:
        assert time.monotonic() < deadline, f"the swarm manager never listened on {port}"
        time.sleep(0.1)


def _statuses(env: SeawallTestEnv) -> dict[str, tuple[str, str]]:
    options = AuditOptions(collect=CollectOptions(endpoint=env.docker_host),
                           checks=("7", "2.15", "5.1"))  # fmt: skip
    return {f.rule.id: (f.status.value, f.evidence) for f in audit_host(options).findings}


def test_swarm_checks_follow_the_swarm(swarm: tuple[SeawallTestEnv, int]) -> None:
    env, port = swarm
    got = _statuses(env)
    assert got["5.1"][0] == "warn"
    assert got["2.15"] == ("pass", "swarm mode is active (live restore is incompatible)")
    assert got["7.1"] == ("pass", "1 managers")
    assert got["7.2"][0] == "pass"
    bound = set(got["7.2"][1].removeprefix("swarm ports bound to ").split(", "))
    assert f"127.0.0.1:{port}" in bound and bound <= {f"127.0.0.1:{port}", "127.0.0.1:7946"}
    assert got["7.3"] == ("pass", "every overlay network is encrypted")  # only ingress
    assert got["7.4"] == ("info", "no swarm secrets in use")
    assert got["7.5"] == ("fail", "auto-lock is off (no unlock key)")
    assert got["7.7"] == (
        "info",
        "node certificates expire after 90 days: confirm the rotation period",
    )
    assert {got[c][0] for c in ("7.6", "7.8", "7.9")} == {"manual"}

    env.docker("network", "create", "--driver", "overlay", "plain")
    env.docker("network", "create", "--driver", "overlay", "--opt", "encrypted", "secure")
    env.docker("secret", "create", "db", str(_secret_file(env)))
    env.docker("swarm", "update", "--autolock=true", "--cert-expiry", "48h")
    got = _statuses(env)
    assert got["7.3"] == ("fail", "unencrypted overlay networks: plain")
    assert got["7.4"] == ("pass", "1 swarm secrets")
    assert got["7.5"] == ("pass", "auto-lock is on")
    assert got["7.7"] == ("pass", "node certificates expire after 2 days")


def _secret_file(env: SeawallTestEnv) -> Path:
    path = Path(env.state_dir) / "secret.txt"
    path.write_text("s3cret")
    return path


def test_swarm_on_every_interface_fails_7_2(swarm: tuple[SeawallTestEnv, int]) -> None:
    env, _ = swarm
    port = free_port()
    env.docker("swarm", "leave", "--force")
    _init_swarm(env, f"0.0.0.0:{port}")
    status, evidence = _statuses(env)["7.2"]
    assert status == "fail"
    wildcard = set(evidence.removeprefix("swarm ports listen on every interface: ").split(", "))
    assert f"*:{port}" in wildcard and wildcard <= {f"*:{port}", "*:7946"}
