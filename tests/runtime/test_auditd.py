"""Linux audit logs: record parsing, joining by serial, the attack and benign fixtures."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.runtime.badinput import BadInput
from seawall.runtime.sources.auditd import (
    AuditAssembler,
    container_of_pid,
    decode_value,
    parse_record,
    parse_sockaddr,
)
from tests.runtime.conftest import AUDITD, alerts_for, rule_ids

CONTAINER = "4f2d1c0b9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817060504"


def events_of(name: str, **kwargs: object) -> list:
    assembler = AuditAssembler(**kwargs)  # type: ignore[arg-type]
    out = []
    for line in (AUDITD / name).read_text().splitlines():
        out.extend(assembler.feed(line))
    return out + assembler.flush()


def test_record_header_and_values() -> None:
    line = (
        "node=web-1 type=SYSCALL msg=audit(1700000000.123:456): arch=c000003e syscall=59 "
        'success=yes exit=0 ppid=1 pid=2 comm="my prog" exe=2F746D702F612062 key=(null)'
    )
    node, kind, when, serial, fields = parse_record(line)  # type: ignore[misc]
    assert (node, kind, serial) == ("web-1", "SYSCALL", 456)
    assert abs(when - 1700000000.123) < 1e-6
    assert decode_value("comm", fields["comm"]) == "my prog"
    assert decode_value("exe", fields["exe"]) == "/tmp/a b"
    assert decode_value("key", fields["key"]) == ""
    assert decode_value("exit", "0") == "0"  # numbers are never hex-decoded


def test_enriched_format_names_the_syscall() -> None:
    assembler = AuditAssembler()
    assembler.feed(
        "type=SYSCALL msg=audit(1.0:7): arch=40000003 syscall=11 success=yes exit=0 "
        'pid=3 ppid=2 comm="sh" exe="/bin/sh"\x1dARCH=i386 SYSCALL=execve AUID="bob"'
    )
    (event,) = assembler.feed("type=EOE msg=audit(1.0:7): ")
    assert event.key == ("execve",)


def test_sockaddr_families() -> None:
    assert parse_sockaddr("02000050C0A80101" + "00" * 8) == ("inet", "192.168.1.1", 80)
    v6 = "0A0001BB00000000" + "20010DB8000000000000000000000001" + "00000000"
    assert parse_sockaddr(v6) == ("inet6", "2001:db8::1", 443)
    assert parse_sockaddr("01002F72756E2F646F636B65722E736F636B00") == (
        "unix",
        "/run/docker.sock",
        0,
    )
    assert parse_sockaddr("zz") == ("", "", 0)
    assert parse_sockaddr("02") == ("", "", 0)


def test_execve_long_arguments_in_pieces() -> None:
    assembler = AuditAssembler()
    assembler.feed(
        "type=SYSCALL msg=audit(2.0:9): arch=c000003e syscall=59 success=yes exit=0 "
        'pid=5 ppid=4 comm="echo" exe="/bin/echo"'
    )
    assembler.feed(
        'type=EXECVE msg=audit(2.0:9): argc=2 a0="echo" a1_len=10 a1[0]=68656C6C6F a1[1]="world"'
    )
    (event,) = assembler.feed("type=EOE msg=audit(2.0:9): ")
    assert event.raw.args == ["echo", "helloworld"]


def test_attack_fixture_raises_each_family() -> None:
    alerts = alerts_for(events_of("attack.log"))
    assert rule_ids(alerts) == sorted(
        [
            "host-reverse-shell",
            "host-suspicious-download",
            "host-history-cleared",
            "host-logs-removed",
            "host-mining-process",
            "host-web-shell",
            "host-kubeconfig-access",
            "host-cloud-metadata",
            "host-pentest-tool",
            "host-timestomp",
        ]
    )
    by_rule = {a.rule.id: a for a in alerts}
    shell = by_rule["host-reverse-shell"]
    assert "/dev/tcp/203.0.113.7/4444" in shell.evidence["proc.cmdline"]
    assert shell.resource.kind == "host"
    assert by_rule["host-web-shell"].evidence["proc.pname"] == "nginx"
    assert shell.time.startswith("2024-11-22T08:00:00.137")


def test_benign_fixture_raises_nothing() -> None:
    events = events_of("benign.log")
    assert len(events) == 10
    assert alerts_for(events) == []


def test_processes_in_containers_from_the_resolver() -> None:
    events = events_of("attack.log", container_of=lambda pid: CONTAINER if pid == 4300 else "")
    alerts = [a for a in alerts_for(events) if a.rule.id == "host-ssh-server-in-container"]
    assert len(alerts) == 1
    assert alerts[0].resource.kind == "container"
    assert alerts[0].resource.id == CONTAINER


def test_container_id_from_proc_cgroup(tmp_path) -> None:
    (tmp_path / "77").mkdir()
    (tmp_path / "77" / "cgroup").write_text(f"0::/system.slice/docker-{CONTAINER}.scope\n")
    (tmp_path / "78").mkdir()
    (tmp_path / "78" / "cgroup").write_text("0::/user.slice/user-1000.slice/session-3.scope\n")
    assert container_of_pid(77, tmp_path) == CONTAINER
    assert container_of_pid(78, tmp_path) == ""
    assert container_of_pid(79, tmp_path) == ""


def test_interleaved_and_unterminated_events() -> None:
    lines = (AUDITD / "attack.log").read_text().splitlines()
    no_eoe = [ln for ln in lines if not ln.startswith("type=EOE")]
    assembler = AuditAssembler()
    events = [e for ln in no_eoe for e in assembler.feed(ln)] + assembler.flush()
    assert len(events) == 13


def test_hostile_lines_are_counted() -> None:
    bad = BadInput()
    assembler = AuditAssembler(bad)
    for line in (
        "garbage",
        "type=SYSCALL msg=audit(x:y): a=b",
        "type=EXECVE msg=audit(1.0:1): argc=99999999",
        "type=SOCKADDR msg=audit(1.0:1): saddr=0",
        "x" * 100_000,
        "type=PATH msg=audit(1.0:2): name=ZZ",
    ):
        assembler.feed(line)
    assert assembler.flush() == []  # no SYSCALL record: nothing to evaluate
    assert bad.counts == {"malformed audit record": 2, "oversized audit record": 1}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=20), st.integers(min_value=1, max_value=3))
def test_fuzzed_records_never_escape(bodies: list[str], serial: int) -> None:
    assembler = AuditAssembler()
    events = []
    kinds = ["SYSCALL", "EXECVE", "PATH", "CWD", "SOCKADDR", "PROCTITLE", "EOE"]
    for i, body in enumerate(bodies):
        events += assembler.feed(f"type={kinds[i % len(kinds)]} msg=audit(1.5:{serial}): {body}")
    events += assembler.flush()
    alerts_for(events)


def test_connection_to_a_stratum_port() -> None:
    assembler = AuditAssembler()
    assembler.feed(
        "type=SYSCALL msg=audit(9.0:3): arch=c000003e syscall=42 success=no exit=-115 "
        'pid=77 ppid=1 comm="kworkerds" exe="/tmp/.k/kworkerds" key="net"'
    )
    assembler.feed("type=SOCKADDR msg=audit(9.0:3): saddr=02000D05C6336407" + "00" * 8)
    (event,) = assembler.feed("type=EOE msg=audit(9.0:3): ")
    (alert,) = alerts_for([event])
    assert alert.rule.id == "host-mining-pool-connection"
    assert alert.evidence["fd.sip"] == "198.51.100.7" and alert.evidence["fd.sport"] == "3333"


def test_real_auditd_capture() -> None:
    """Records captured from a real auditd (see SOURCES.md): no EOE, node= prefix."""
    events = events_of("real-capture.log")
    assert len(events) == 32
    alerts = alerts_for(events)
    assert rule_ids(alerts) == sorted(
        [
            "host-reverse-shell",
            "host-suspicious-download",
            "host-history-cleared",
            "host-shadow-access",
            "host-web-shell",
            "host-cloud-metadata",
            "host-timestomp",
        ]
    )
    by_rule = {a.rule.id: a for a in alerts}
    assert by_rule["host-reverse-shell"].count == 2  # the execve and the shell's connect
    assert by_rule["host-web-shell"].evidence["proc.pname"] == "nginx"
    assert by_rule["host-reverse-shell"].resource.attributes["host"] == "vm"
    connects = [e for e in events if e.key == ("connect",)]
    assert {(e.raw.family, e.raw.sip, e.raw.port) for e in connects} >= {("inet", "127.0.0.1", 9)}


REAL_CONTAINER = "d89a2e25004660df3df3ba7f9b2b28c563a9ca5cdfa28af823a4d4917a1b2d97"


def test_real_capture_of_processes_in_a_container() -> None:
    """Real auditd records of docker exec'd processes (see SOURCES.md); the pids are the
    container's, as the watcher found them in /proc/PID/cgroup."""
    pids: set[int] = set()
    for line in (AUDITD / "real-container-capture.log").read_text().splitlines():
        parsed = parse_record(line)
        if parsed and parsed[1] == "SYSCALL":
            pids.add(int(parsed[4]["pid"]))
    assert len(pids) == 4
    assert alerts_for(events_of("real-container-capture.log")) == []  # no container: host
    events = events_of(
        "real-container-capture.log", container_of=lambda pid: REAL_CONTAINER if pid in pids else ""
    )
    assert [e.raw.syscall for e in events] == ["execve"] * 4
    alerts = alerts_for(events)
    assert rule_ids(alerts) == [
        "host-kubernetes-api-from-container",
        "host-ssh-server-in-container",
    ]
    assert {a.resource.id for a in alerts} == {REAL_CONTAINER}
    wget = next(a for a in alerts if a.rule.id == "host-kubernetes-api-from-container")
    assert wget.evidence["proc.name"] == "wget"  # comm is "exe": busybox re-executed itself


def test_an_alert_without_a_node_names_the_host_as_it_is_now(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "renamed-host")
    alerts = alerts_for(events_of("attack.log"))
    shell = next(a for a in alerts if a.rule.id == "host-reverse-shell")
    assert shell.resource.name == "renamed-host"  # not the name it had at import time
