"""VEX and ignore files reach the scan engine as parsed statements: from a file or from
content in memory (what a server receives), with the same outcome."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from seawall.errors import InputError
from seawall.model import Advisory, Affected, Ecosystem, ImageInfo, Inventory, Package, Range
from seawall.vulndb.scan import ScanOptions, scan_inventory
from seawall.vulndb.suppress import (
    load_ignore_file,
    load_vex,
    parse_ignore_file,
    parse_vex,
)
from tests.support.hostile import alias_bomb, deep_json

VEX = json.dumps(
    {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "statements": [
            {
                "vulnerability": {"name": "CVE-2020-1"},
                "products": [{"@id": "pkg:pypi/alpha"}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
            },
            {"vulnerability": "CVE-2020-2", "status": "affected"},
        ],
    }
).encode()
IGNORE = """\
ignore:
  - id: CVE-2020-3
    reason: not reachable
    expires: 2999-01-01
  - id: CVE-2020-2
    reason: accepted long ago
    expires: 2020-01-01
"""


class MemoryStore:
    """The matcher's store protocol over a list of advisories."""

    def __init__(self, advisories: list[Advisory]) -> None:
        self.advisories = {a.id: a for a in advisories}

    def affected(self, ecosystem: str, release: str, package: str) -> list[tuple[str, Affected]]:
        return [
            (a.id, e)
            for a in self.advisories.values()
            for e in a.affected
            if e.ecosystem == ecosystem and e.package == package
        ]

    def advisory(self, advisory_id: str) -> Advisory:
        return self.advisories[advisory_id]


def advisory(advisory_id: str, package: str) -> Advisory:
    rng = Range(type="ECOSYSTEM", events=(("introduced", "0"), ("fixed", "9.0")))
    return Advisory(
        id=advisory_id,
        affected=(Affected(ecosystem="PyPI", package=package, ranges=(rng,)),),
    )


STORE = MemoryStore(
    [
        advisory("CVE-2020-1", "alpha"),
        advisory("CVE-2020-2", "beta"),
        advisory("CVE-2020-3", "beta"),
    ]
)
INVENTORY = Inventory(
    image=ImageInfo(reference="test", source="docker-archive"),
    distro=None,
    packages=tuple(
        Package(
            ecosystem=Ecosystem.PYPI,
            name=name,
            version="1.0",
            path=f"site-packages/{name}-1.0.dist-info/METADATA",
            purl=f"pkg:pypi/{name}@1.0",
        )
        for name in ("alpha", "beta")
    ),
)


def outcome(options: ScanOptions) -> tuple[set[str], set[tuple[str, str]], tuple[str, ...]]:
    report = scan_inventory(INVENTORY, STORE, options)
    return (
        {v.advisory.id for v in report.vulnerabilities},
        {(s.id, s.package) for s in report.suppressed},
        report.warnings,
    )


def test_vex_from_memory_suppresses_what_the_file_does(tmp_path: Path) -> None:
    path = tmp_path / "vex.json"
    path.write_bytes(VEX)
    from_file, warnings = load_vex(path)
    from_memory, _ = parse_vex(VEX, str(path))
    assert warnings == []
    assert from_memory == from_file
    assert parse_vex(VEX.decode(), str(path))[0] == from_file  # text works too
    kept, suppressed, _ = outcome(ScanOptions(suppressions=tuple(from_memory)))
    assert outcome(ScanOptions(suppressions=tuple(from_file)))[:2] == (kept, suppressed)
    assert suppressed == {("CVE-2020-1", "alpha")}
    assert kept == {"CVE-2020-2", "CVE-2020-3"}  # an "affected" statement removes nothing


def test_ignore_file_from_memory_matches_the_file_and_reports_expiry(tmp_path: Path) -> None:
    path = tmp_path / "ignore.yaml"
    path.write_text(IGNORE)
    today = dt.date(2026, 1, 1)
    active, expired = parse_ignore_file(IGNORE, "upload:ignore.yaml", today)
    assert [s.vulnerability for s in active] == ["CVE-2020-3"]
    assert expired == ["upload:ignore.yaml: ignore of CVE-2020-2 expired on 2020-01-01"]
    assert load_ignore_file(path, today) == parse_ignore_file(IGNORE.encode(), str(path), today)
    kept, suppressed, warnings = outcome(
        ScanOptions(suppressions=tuple(active), suppression_warnings=tuple(expired))
    )
    assert kept == {"CVE-2020-1", "CVE-2020-2"} and suppressed == {("CVE-2020-3", "beta")}
    assert warnings[-1] == expired[0]


def test_content_in_memory_is_bounded_and_named_in_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(InputError, match=r"upload\.json: not UTF-8"):
        parse_vex(b"\xff\xfe{}", "upload.json")
    with pytest.raises(InputError, match=r"upload\.json: not valid JSON"):
        parse_vex(b"{", "upload.json")
    monkeypatch.setenv("SEAWALL_MAX_IGNORE_BYTES", "16")
    with pytest.raises(InputError, match="larger than 16 bytes"):
        parse_ignore_file("ignore: []" + " " * 16, "big.yaml")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"statements": 1}, "field statements: expected list or null, got int"),
        ({"vulnerabilities": {"a": 1}}, "field vulnerabilities: expected list or null, got object"),
        ({"bomFormat": 3}, "field bomFormat: expected string or null, got int"),
        ([], "expected object, got list"),
    ],
)
def test_a_bad_vex_envelope_refuses_the_document(document: object, message: str) -> None:
    with pytest.raises(InputError, match=f"^vex.json: {message}$"):
        parse_vex(json.dumps(document), "vex.json")


def test_a_bad_vex_statement_is_reported_and_skipped() -> None:
    good = {"vulnerability": "CVE-1", "status": "fixed", "products": ["pkg:pypi/a", {"x": 1}]}
    document = {"statements": [{"status": 3}, good, {"products": "p"}]}
    found, warnings = parse_vex(json.dumps(document), "vex.json")
    assert [(s.vulnerability, s.products) for s in found] == [("CVE-1", ("pkg:pypi/a",))]
    assert warnings == [
        "vex.json: statement 1: field status: expected string, got int; skipped",
        "vex.json: statement 3: field products: expected list or null, got string; skipped",
    ]
    cyclonedx = {"bomFormat": "CycloneDX", "vulnerabilities": [
        {"id": "CVE-2", "analysis": {"state": "resolved"}, "affects": [{"ref": "pkg:npm/b"}]},
        {"id": "CVE-3", "analysis": "resolved"},
    ]}  # fmt: skip
    found, warnings = parse_vex(json.dumps(cyclonedx), "bom.json")
    assert [(s.vulnerability, s.products) for s in found] == [("CVE-2", ("pkg:npm/b",))]
    assert warnings == [
        "bom.json: vulnerability 2: field analysis: expected object or null, got string; skipped"
    ]


def test_hostile_vex_and_ignore_files_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nested deeper than 64 levels"):
        parse_vex(b'{"statements": ' + deep_json() + b"}", "deep.json")
    with pytest.raises(InputError, match="more than 2000000 nodes"):
        parse_ignore_file(alias_bomb() + "ignore: []\n", "bomb.yaml")
    for path, message in ((Path("/dev/zero"), "a character device"), (tmp_path, "a directory")):
        with pytest.raises(InputError, match=message):
            load_vex(path)
        with pytest.raises(InputError, match=message):
            load_ignore_file(path)
