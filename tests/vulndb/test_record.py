"""OSV record parsing: real records, severity choice, withdrawn, hostile and random input."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.model import Severity
from seawall.safety.limits import BYTES
from seawall.vulndb.osv import RecordError
from seawall.vulndb.record import Parsed, parse
from tests.support.hostile import alias_bomb
from tests.vulndb.conftest import FIXTURES, osv

REAL = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".json", ".yaml"))


def _parse(record: dict[str, Any]) -> Parsed:
    parsed = parse(json.dumps(record).encode(), "r.json")
    assert parsed is not None
    return parsed


def test_every_real_fixture_parses_or_is_withdrawn() -> None:
    assert len(REAL) == 300
    withdrawn = [p.name for p in REAL if parse(p.read_bytes(), p.name) is None]
    assert set(withdrawn) >= {"RUSTSEC-2022-0044.json", "GO-2024-2447.json", "PYSEC-2019-144.yaml"}
    assert len(withdrawn) < 20


def test_yaml_record_keeps_versions_as_strings_and_computes_cvss() -> None:
    text = (FIXTURES / "pypi").glob("*.yaml")
    found = [parse(p.read_bytes(), p.name) for p in text]
    rated = [p for p in found if p is not None and p.advisory.cvss_score is not None]
    assert rated, "some PyPI fixtures carry CVSS v3 vectors"
    for parsed in rated:
        assert parsed.advisory.cvss_vector.startswith("CVSS:3")
        assert parsed.advisory.severity is not Severity.UNKNOWN
    record = b"id: X-1\naffected:\n- package: {ecosystem: PyPI, name: a}\n  versions: [1.10, 2.0]\n"
    parsed = parse(record, "x.yaml")
    assert parsed is not None
    assert parsed.advisory.affected[0].versions == ("1.10", "2.0")


def test_ghsa_rating_wins_over_cvss() -> None:
    parsed = _parse(
        osv(
            "GHSA-1",
            severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            database_specific={"severity": "MODERATE"},
        )
    )
    assert parsed.advisory.severity is Severity.MEDIUM
    assert parsed.advisory.cvss_score == 9.8


def test_ubuntu_severity_entry_and_debian_urgency_per_entry() -> None:
    ubuntu = _parse(
        osv(
            "UBUNTU-CVE-1",
            "Ubuntu:22.04:LTS",
            "openssl",
            severity=[{"type": "Ubuntu", "score": "high"}],
        )
    )
    assert ubuntu.advisory.severity is Severity.HIGH
    record = osv("DEBIAN-CVE-1", "Debian:12", "curl", aliases=["CVE-2024-1"])
    record["affected"][0]["ecosystem_specific"] = {"urgency": "unimportant"}
    debian = _parse(record)
    assert debian.advisory.affected[0].severity == "low"
    assert debian.advisory.severity is Severity.LOW
    assert debian.cves == ("CVE-2024-1",)


def test_unrated_words_fall_back_to_cvss_then_unknown() -> None:
    record = osv(
        "DEBIAN-CVE-2",
        "Debian:12",
        "curl",
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"}],
    )
    record["affected"][0]["ecosystem_specific"] = {"urgency": "not yet assigned"}
    parsed = _parse(record)
    assert parsed.advisory.affected[0].severity == ""
    assert (parsed.advisory.severity, parsed.advisory.cvss_score) == (Severity.MEDIUM, 6.1)
    assert _parse(osv("GO-1", "Go", "x")).advisory.severity is Severity.UNKNOWN


def test_v4_scores_and_wins_over_v3_unless_malformed() -> None:
    v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    v3 = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"

    def rated(*entries: tuple[str, str]) -> tuple[str, float | None, Severity]:
        severity = [{"type": kind, "score": vector} for kind, vector in entries]
        advisory = _parse(osv("R-1", "crates.io", "x", severity=severity)).advisory
        return advisory.cvss_vector, advisory.cvss_score, advisory.severity

    assert rated(("CVSS_V4", v4)) == (v4, 9.3, Severity.CRITICAL)
    assert rated(("CVSS_V3", v3), ("CVSS_V4", v4)) == (v4, 9.3, Severity.CRITICAL)
    assert rated(("CVSS_V3", v3), ("CVSS_V4", "CVSS:4.0/AV:N")) == (v3, 3.1, Severity.LOW)
    assert rated(("CVSS_V4", "CVSS:4.0/AV:N")) == ("CVSS:4.0/AV:N", None, Severity.UNKNOWN)


def test_git_ranges_dropped_and_entries_without_matchable_versions_too() -> None:
    record = osv("GO-2")
    record["affected"].append(
        {
            "package": {"ecosystem": "Go", "name": "y"},
            "ranges": [{"type": "GIT", "repo": "r", "events": [{"introduced": "abc"}]}],
        }
    )
    parsed = _parse(record)
    assert [a.package for a in parsed.advisory.affected] == ["demo"]


def test_withdrawn_is_none() -> None:
    assert (
        parse(json.dumps(osv("W-1", withdrawn="2024-01-01T00:00:00Z")).encode(), "w.json") is None
    )


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "deep.json"),
        (b'{"id": "X", "database_specific": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001, "deep.json"),
        (b"a: " + b"[" * 200 + b"]" * 200, "deep.yaml"),
        (alias_bomb().encode() + b"id: X\n", "bomb.yaml"),
        (b'{"id": "X", "affected": "no"}', "shape.json"),
        (
            b'{"id": "X", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"},'
            b' "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]}',
            "two-keys.json",
        ),
        (b"\xff\xfe not json", "bin.json"),
        (b"{}", "noid.json"),
    ],
)
def test_hostile_records_are_record_errors(data: bytes, name: str) -> None:
    with pytest.raises(RecordError):
        parse(data, name)


def test_oversized_record_refused_before_decoding() -> None:
    with pytest.raises(RecordError, match="limit"):
        parse(b" " * (BYTES["OSV_RECORD"] + 1), "big.json")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
_field = st.sampled_from(
    [
        "id",
        "affected",
        "severity",
        "aliases",
        "withdrawn",
        "summary",
        "database_specific",
        "references",
        "package",
        "ranges",
        "events",
        "versions",
        "ecosystem",
        "name",
        "type",
        "score",
        "introduced",
        "fixed",
    ]
)
_shaped = st.recursive(
    st.text(max_size=6) | st.none() | st.integers(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_field, children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_field, _shaped, max_size=6) | _json)
def test_any_json_value_parses_or_is_a_record_error(value: Any) -> None:
    data = json.dumps(value).encode()
    for name in ("r.json", "r.yaml"):
        try:
            parsed = parse(data if name.endswith(".json") else yaml.safe_dump(value).encode(), name)
        except RecordError:
            continue
        if parsed is not None and name.endswith(".json"):
            assert parsed.advisory.id == value["id"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_parse_or_are_a_record_error(data: bytes) -> None:
    for name in ("r.json", "r.yaml"):
        with contextlib.suppress(RecordError):
            parse(data, name)


def test_fixture_paths_exist() -> None:
    assert Path(FIXTURES / "SOURCES.md").is_file()


def test_yaml_null_withdrawn_is_not_withdrawn() -> None:
    record = (
        b"id: X-2\nwithdrawn: null\n"
        b"affected:\n- package: {ecosystem: PyPI, name: a}\n  versions: ['1']\n"
    )
    parsed = parse(record, "x.yaml")
    assert parsed is not None and parsed.advisory.id == "X-2"
