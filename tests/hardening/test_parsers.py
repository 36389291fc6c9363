"""The parsers of the host audit on normal, hostile and random input: dockerd command lines,
daemon.json, audit rules, /etc/group and /etc/passwd; plus check selection and the catalog."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from seawall.errors import InputError
from seawall.hardening.benchmark import select_checks
from seawall.hardening.commandline import read_cmdline
from seawall.hardening.docker.audit import load_checks
from seawall.hardening.docker.auditrules import parse_audit_rules
from seawall.hardening.docker.collect import parse_tcp_table
from seawall.hardening.docker.daemonconfig import (
    DaemonConfig,
    parse_cmdline,
    parse_daemon_json,
)
from seawall.hardening.errors import Unassessable
from seawall.hardening.hostfiles import HostFiles, parse_group, parse_passwd
from seawall.rules import catalog

REPO = Path(__file__).resolve().parents[2]


def test_cmdline_long_short_boolean_and_repeated_flags() -> None:
    argv = ["-H", "unix:///run/d.sock", "--host=tcp://0.0.0.0:2376", "--icc=false",
            "--live-restore", "--log-level", "debug", "-D", "--insecure-registry", "a:5000",
            "--insecure-registry=b:5000", "-Hfd://"]  # fmt: skip
    flags = parse_cmdline(argv)
    assert flags["host"] == ["unix:///run/d.sock", "tcp://0.0.0.0:2376", "fd://"]
    assert flags["icc"] == ["false"]
    assert flags["live-restore"] == ["true"]
    assert flags["log-level"] == ["debug"]
    assert flags["debug"] == ["true"]
    config = DaemonConfig(flags=flags)
    assert config.truthy("icc", True).value is False
    assert config.get("insecure-registries").value == ["a:5000", "b:5000"]
    assert config.get("log-level").source == "--log-level=debug"


def test_read_cmdline_splits_on_nul() -> None:
    assert read_cmdline(b"dockerd\0--icc=false\0\0") == ["dockerd", "--icc=false"]


def test_settings_come_from_daemon_json_with_evidence() -> None:
    config = DaemonConfig(json={"icc": False, "hosts": ["tcp://1.2.3.4:2376"]})
    assert config.truthy("icc", True).source == "daemon.json icc=false"
    assert config.get("hosts").value == ["tcp://1.2.3.4:2376"]
    assert not config.get("log-level", "info").is_set


def test_unreadable_sources_make_absent_settings_unassessable() -> None:
    config = DaemonConfig(flags={"iptables": ["false"]}, json_error="daemon.json: invalid")
    assert config.truthy("iptables", True).value is False  # on the command line
    with pytest.raises(Unassessable, match=r"daemon\.json: invalid"):
        config.get("icc", True)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[1, 2]", "not a JSON object"),
        ('{"icc": false,,}', "invalid JSON"),
        ("", "invalid JSON"),
        ("[" * 100_000, "nested too deeply|invalid JSON"),
        ('{"a": "' + "x" * (1 << 20) + '"}', "larger than 1 MiB"),
    ],
)
def test_hostile_daemon_json(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_daemon_json(text)


@given(st.lists(st.text(max_size=30), max_size=30))
def test_any_cmdline_parses(argv: list[str]) -> None:
    flags = parse_cmdline(argv)
    assert all(isinstance(v, list) and v for v in flags.values())


@given(st.text(max_size=500))
def test_any_daemon_json_is_a_mapping_or_a_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        assert isinstance(parse_daemon_json(text), dict)


def test_audit_rules() -> None:
    rules = parse_audit_rules(
        "# -w /etc/docker\n-w /etc/docker/ -k docker\n-a exit,always -F dir=/var/lib/docker\n"
        '-w "/usr/bin/run c" -k x\n-w\n-F path=relative\n',
        "test",
    )
    assert rules.rule_for("/etc/docker") == "-w /etc/docker/ -k docker"
    assert rules.rule_for("/var/lib/docker/") == "-a exit,always -F dir=/var/lib/docker"
    assert rules.rule_for("/usr/bin/run c")
    assert rules.rule_for("relative", "/etc/default/docker") == ""


@given(st.text(max_size=1000))
def test_any_audit_rules_text_parses(text: str) -> None:
    rules = parse_audit_rules(text, "random")
    assert all(path.startswith("/") for path in rules.watched)


TCP_HEADER = "  sl  local_address rem_address   st tx_queue ... uid  timeout inode\n"


def _tcp_line(local: str, state: str, inode: str) -> str:
    rest = "00000000:00000000 00:00000000 00000000     0        0"
    return f"   0: {local} 00000000:0000 {state} {rest} {inode} 1\n"


def test_tcp_tables() -> None:
    v4 = (
        TCP_HEADER + _tcp_line("0100007F:0951", "0A", "11") + _tcp_line("00000000:1F0A", "0A", "12")
    )
    v4 += _tcp_line("0100007F:A0A0", "01", "13")  # established, not listening
    assert parse_tcp_table(v4) == ["127.0.0.1:2385", "*:7946"]
    assert parse_tcp_table(v4, {"12"}) == ["*:7946"]
    v6 = TCP_HEADER + _tcp_line("00000000000000000000000001000000:0951", "0A", "21")
    v6 += _tcp_line("00000000000000000000000000000000:0951", "0A", "22")
    assert parse_tcp_table(v6) == ["[::1]:2385", "*:2385"]


@pytest.mark.parametrize(
    "line",
    ["", "garbage", _tcp_line("ZZZZ:0951", "0A", "1"), _tcp_line("0100007F:XYZ", "0A", "1"),
     _tcp_line("01007F:0951", "0A", "1"), _tcp_line("0100007F", "0A", "1"), "0: 0A " * 3],
)  # fmt: skip
def test_hostile_tcp_table_lines_are_skipped(line: str) -> None:
    assert parse_tcp_table(TCP_HEADER + line + "\n" + _tcp_line("0100007F:0951", "0A", "1")) == [
        "127.0.0.1:2385"
    ]


@given(st.text())
def test_any_tcp_table_parses(text: str) -> None:
    assert all(":" in entry for entry in parse_tcp_table(text))


def test_group_and_passwd() -> None:
    groups = parse_group("docker:x:999:alice, bob\nbad\n#c:x:1:\nnogid:x:z:\n")
    assert groups["docker"].members == ("alice", "bob")
    assert set(groups) == {"docker"}
    assert parse_passwd("bob:x:1000:999::/:/bin/sh\nbad:x:y:z\n") == {"bob": (1000, 999)}


@given(st.text(max_size=500))
def test_any_group_or_passwd_text_parses(text: str) -> None:
    parse_group(text)
    parse_passwd(text)


def test_selection() -> None:
    rules = list(catalog("cis-docker"))
    assert select_checks(rules, ("1.1",), ("1.1.2",)) == [
        f"1.1.{n}" for n in range(1, 19) if n != 2
    ]
    assert len(select_checks(rules)) == 117
    assert select_checks(rules, ("5.1",)) == ["5.1"]  # an id is not the prefix of 5.10
    with pytest.raises(InputError, match="no CIS check or section '9'"):
        select_checks(rules, ("9",))


def test_catalog_covers_every_check_with_guidance() -> None:
    rules = catalog("cis-docker")
    assert len(rules) == 117
    assert set(rules) == set(load_checks())
    assert {r.mappings["section"].split()[0] for r in rules.values()} == set("1234567")
    for rule in rules.values():
        assert rule.title and rule.rationale and rule.remediation and rule.impact
        assert rule.level in (1, 2)
    assert not rules["5.23"].scored and rules["5.9"].scored and rules["2.9"].level == 2


def test_catalog_is_what_the_generator_writes(tmp_path: Path) -> None:
    tsv = REPO.parent / "shared" / "reference" / "cis-docker-1.6-checks.tsv"
    out = tmp_path / "cis-docker.yaml"
    subprocess.run([sys.executable, str(REPO / "tools" / "gen_cis_catalog.py"), str(tsv),
                    str(out)], check=True, capture_output=True)  # fmt: skip
    built = (REPO / "src" / "seawall" / "rules" / "cis-docker.yaml").read_text()
    assert yaml.safe_load(out.read_text()) == yaml.safe_load(built)


def test_host_files_that_are_not_regular_are_unassessable_not_a_hang(tmp_path: Path) -> None:
    """A FIFO where daemon.json belongs would block the audit forever, a directory where
    /etc/group belongs is no file: the check that needs it is unassessable, the rest of the
    audit goes on. (Links resolve inside the host root, so /dev/zero cannot be reached.)"""
    (tmp_path / "etc" / "docker").mkdir(parents=True)
    os.mkfifo(tmp_path / "etc" / "docker" / "daemon.json")
    (tmp_path / "etc" / "group").mkdir()
    files = HostFiles(tmp_path)
    with pytest.raises(Unassessable, match="a FIFO, not a regular file"):
        files.read_text("/etc/docker/daemon.json")
    with pytest.raises(Unassessable, match="a directory"):
        files.read_text("/etc/group")
    assert files.read_text("/etc/passwd") is None
