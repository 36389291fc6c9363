"""The issue's acceptance test: import real advisories, scan a real image, get exactly the
advisories that apply, with severity and a fix, in every format, and a failing CI gate.

Expectations come from the advisory files themselves by independent means: PyPI records list
their affected versions explicitly; Go stdlib ranges are checked with ``packaging``; the npm,
Debian and Alpine cases were read off the upstream records by hand (ids below).
"""

from __future__ import annotations

import json
import lzma
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packaging.version import Version

from seawall.contract import decode
from tests.support.advisories import (
    alpine_secdb_to_osv,
    debian_list_to_osv,
    npm_security_wg_to_osv,
)
from tests.support.testenv import BuildImage, SeawallTestEnv

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "advisories"
FIXTURES = ROOT / "tests" / "fixtures"
SITE = "usr/local/lib/python3.11/site-packages"
DEBIAN_11 = (
    'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\n'
    'VERSION_ID="11"\nVERSION="11 (bullseye)"\nVERSION_CODENAME=bullseye\nID=debian\n'
)
STATUS = """Package: xserver-common
Status: install ok installed
Architecture: all
Source: xorg-server
Version: 2:1.20.11-1+deb11u4

Package: dino-im
Status: install ok installed
Architecture: amd64
Version: 0.2.0-3+deb11u1

"""
GO_VERSION = "1.19.8"  # the Go toolchain that built tests/fixtures/inventory/gobinary/hello
PYPI = {"requests": "2.19.1", "urllib3": "1.24.1", "jinja2": "2.10"}
# Read off the records: lodash <4.17.5 (368) and <4.17.11 (493) but not >=4.17.15 <4.17.19
# (516); ms <=0.7.0 (46); xorg-server fixed in 2:1.20.11-1+deb11u5 and deb11u6 (DSA-5337-1,
# DSA-5380-1); dino-im is at its fixed version.
EXPECTED_BY_HAND = {
    "lodash": {"NSWG-ECO-368", "NSWG-ECO-493"},
    "ms": {"NSWG-ECO-46"},
    "xserver-common": {"DEBIAN-CVE-2023-0494", "DEBIAN-CVE-2023-1393"},
}

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/advisories")


def seawall(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "seawall", *args], capture_output=True, text=True, timeout=600
    )
    if check and result.returncode not in (0, 1):
        raise AssertionError(result.stderr)
    return result


def pypi_oracle() -> dict[str, set[str]]:
    """Advisory ids whose explicit ``versions`` list names the installed version."""
    expected: dict[str, set[str]] = {name: set() for name in PYPI}
    for name, version in PYPI.items():
        for path in (SHARED / "pypi" / "vulns" / name).glob("*.yaml"):
            record = yaml.safe_load(path.read_text())
            if record.get("withdrawn"):
                continue
            if any(version in a.get("versions", []) for a in record.get("affected", [])):
                expected[name].add(record["id"])
    return expected


def go_stdlib_oracle() -> set[str]:
    """Go advisories whose stdlib SEMVER ranges contain the toolchain version."""
    installed = Version(GO_VERSION)
    found = set()
    for path in (SHARED / "go" / "osv").glob("*.json"):
        record = json.loads(path.read_text())
        if record.get("withdrawn"):
            continue
        for affected in record.get("affected", []):
            if affected["package"]["name"] != "stdlib":
                continue
            for rng in affected.get("ranges", []):
                state = False
                events = sorted(rng["events"], key=lambda e: Version(next(iter(e.values()))))
                for event in events:
                    kind, value = next(iter(event.items()))
                    if Version(value) > installed:
                        break
                    state = kind == "introduced"
                if state:
                    found.add(record["id"])
    return found


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("advisories")
    converted = work / "converted"
    converted.mkdir()
    records = [
        *debian_list_to_osv(SHARED / "debian" / "DSA" / "list"),
        *alpine_secdb_to_osv(SHARED / "alpine" / "v3.10" / "main.yaml"),
        *(
            r
            for p in (SHARED / "npm" / "security-wg").glob("*.json")
            if (r := npm_security_wg_to_osv(p))
        ),
    ]
    for record in records:
        (converted / f"{record['id']}.json").write_text(json.dumps(record))
    db = work / "advisories.db"
    result = seawall(
        "db",
        "import",
        str(SHARED / "pypi" / "vulns"),
        str(SHARED / "go" / "osv"),
        str(SHARED / "crates.io" / "osv"),
        str(converted),
        "--db",
        str(db),
    )
    assert result.returncode == 0, result.stderr
    return db


@pytest.fixture(scope="module")
def image(build_image: BuildImage, tmp_path_factory: pytest.TempPathFactory) -> str:
    context = tmp_path_factory.mktemp("vulnerable")
    shutil.copy("/bin/busybox", context / "busybox")
    root = context / "root"
    files = {
        "etc/os-release": DEBIAN_11.encode(),
        "var/lib/dpkg/status": STATUS.encode(),
        f"{SITE}/requests-2.19.1.dist-info/METADATA": (
            FIXTURES / "vulndb-scan/pypi/requests-2.19.1.METADATA"
        ).read_bytes(),
        f"{SITE}/urllib3-1.24.1.dist-info/METADATA": (
            FIXTURES / "vulndb-scan/pypi/urllib3-1.24.1.METADATA"
        ).read_bytes(),
        f"{SITE}/Jinja2-2.10.dist-info/METADATA": (
            FIXTURES / "vulndb-scan/pypi/Jinja2-2.10.METADATA"
        ).read_bytes(),
        "app/node_modules/lodash/package.json": (
            FIXTURES / "vulndb-scan/npm/lodash-4.17.4.package.json"
        ).read_bytes(),
        "app/node_modules/ms/package.json": (
            FIXTURES / "vulndb-scan/npm/ms-0.7.0.package.json"
        ).read_bytes(),
        "usr/local/bin/hello": lzma.decompress(
            (FIXTURES / "inventory/gobinary/hello-linux-amd64.xz").read_bytes()
        ),
    }
    for relative, data in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (root / "usr/local/bin/hello").chmod(0o755)
    (context / "Dockerfile").write_text(
        'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "sh"]\nCOPY root/ /\n'
    )
    return build_image(context)


@pytest.fixture(scope="module")
def report(image: str, database: Path, testenv: SeawallTestEnv) -> dict:
    result = seawall(
        "image",
        "scan",
        image,
        "--docker-host",
        testenv.docker_host,
        "--db",
        str(database),
        "--format",
        "json",
        "--no-cache",
    )
    assert result.returncode == 0, result.stderr
    return scan_envelope(result.stdout)


def scan_envelope(text: str) -> dict:
    """The image-scan envelope, checked against the contract."""
    decode(text.encode())
    document: dict = json.loads(text)
    assert document["kind"] == "image-scan"
    return document


def advisory_ids(report: dict, result: dict) -> set[str]:
    """The advisory id of a result (without the ``osv/`` namespace) and its aliases."""
    rule = next(r for r in report["rules"] if r["id"] == result["rule"])
    return {rule["id"].removeprefix("osv/"), *rule["aliases"]}


def found_ids(report: dict) -> dict[str, list[set[str]]]:
    by_package: dict[str, list[set[str]]] = {}
    for result in report["results"]:
        name = result["package"]["name"].lower()
        by_package.setdefault(name, []).append(advisory_ids(report, result))
    return by_package


def assert_exactly(found: list[set[str]], expected: set[str]) -> None:
    for record_id in expected:
        assert any(record_id in ids for ids in found), f"missed {record_id}"
    for ids in found:
        assert ids & expected, f"unexpected finding {sorted(ids)}"


def test_pypi_findings_are_exactly_the_listed_versions(report: dict) -> None:
    found = found_ids(report)
    for name, expected in pypi_oracle().items():
        assert expected, f"the fixture should hit advisories for {name}"
        assert_exactly(found.get(name, []), expected)


def test_go_stdlib_findings_match_the_ranges(report: dict) -> None:
    assert_exactly(found_ids(report).get("stdlib", []), go_stdlib_oracle())


@pytest.mark.parametrize("package", sorted(EXPECTED_BY_HAND))
def test_npm_and_debian_findings(report: dict, package: str) -> None:
    assert_exactly(found_ids(report).get(package, []), EXPECTED_BY_HAND[package])
    assert "dino-im" not in found_ids(report)


def test_every_finding_has_severity_fix_and_origin(report: dict) -> None:
    lodash = [f for f in report["results"] if f["package"]["name"] == "lodash"]
    assert {f["fixed_version"] for f in lodash} == {"4.17.5", "4.17.11"}
    assert all(f["severity"] != "unknown" for f in lodash)  # rated from the CVSS vectors
    assert all(f["remediation"] == "npm install lodash@4.17.11" for f in lodash)
    plans = {p["package"]["name"]: p for p in report["remediations"]}
    assert plans["lodash"]["fixed_version"] == "4.17.11"
    assert plans["lodash"]["command"] == "npm install lodash@4.17.11"
    assert plans["xserver-common"]["command"] == "apt-get install --only-upgrade xserver-common"
    assert plans["lodash"]["created_by"].startswith("/bin/sh -c #(nop) COPY dir:")
    assert not plans["lodash"]["from_base_image"]


@pytest.mark.parametrize("fmt", ["table", "sarif", "cyclonedx", "spdx"])
def test_every_format(
    image: str, database: Path, testenv: SeawallTestEnv, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / (f"report.{fmt}.json" if fmt == "spdx" else f"report.{fmt}")
    result = seawall(
        "image",
        "scan",
        image,
        "--docker-host",
        testenv.docker_host,
        "--db",
        str(database),
        "--format",
        fmt,
        "-o",
        str(out),
        "--no-cache",
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    if fmt == "table":
        assert "CVE-2018-16487" in text and "npm install lodash@4.17.11" in text
    elif fmt == "sarif":
        sarif = json.loads(text)
        assert sarif["version"] == "2.1.0"
        rule_ids = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
        assert "CVE-2018-16487" in rule_ids
    elif fmt == "cyclonedx":
        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
        assert any(v["id"] == "CVE-2018-16487" for v in json.loads(text)["vulnerabilities"])
    else:
        from spdx_tools.spdx.parser.parse_anything import parse_file
        from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

        assert validate_full_spdx_document(parse_file(str(out))) == []
        assert "CVE-2018-16487" in text


def test_fail_on_high_fails_the_ci_step(
    image: str, database: Path, testenv: SeawallTestEnv
) -> None:
    failing = seawall(
        "image",
        "scan",
        image,
        "--docker-host",
        testenv.docker_host,
        "--db",
        str(database),
        "--fail-on",
        "high",
        "--no-cache",
    )
    assert failing.returncode == 1
    only_low = seawall(
        "image",
        "scan",
        image,
        "--docker-host",
        testenv.docker_host,
        "--db",
        str(database),
        "--fail-on",
        "high",
        "--severity",
        "low",
        "--no-cache",
    )
    assert only_low.returncode == 0, only_low.stdout
    assert "healthy" in only_low.stdout


def test_vex_and_ignore_file_remove_findings(
    image: str, database: Path, testenv: SeawallTestEnv, tmp_path: Path
) -> None:
    vex = tmp_path / "vex.json"
    vex.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://example.com/vex/1",
                "statements": [
                    {
                        "vulnerability": {"name": "CVE-2018-16487"},
                        "products": [{"@id": "pkg:npm/lodash"}],
                        "status": "not_affected",
                        "justification": "vulnerable_code_not_in_execute_path",
                    }
                ],
            }
        )
    )
    ignore = tmp_path / "ignore.yaml"
    ignore.write_text(
        yaml.safe_dump(
            {
                "ignore": [
                    {
                        "id": "CVE-2015-8315",
                        "reason": "ms is not used at run time",
                        "expires": "2999-01-01",
                    },
                    {
                        "id": "CVE-2018-3721",
                        "reason": "accepted last year",
                        "expires": "2020-01-01",
                    },
                ]
            }
        )
    )
    result = seawall(
        "image",
        "scan",
        image,
        "--docker-host",
        testenv.docker_host,
        "--db",
        str(database),
        "--vex",
        str(vex),
        "--ignore-file",
        str(ignore),
        "--format",
        "json",
        "--no-cache",
    )
    report = scan_envelope(result.stdout)
    ids = {i for f in report["results"] for i in advisory_ids(report, f)}
    assert "CVE-2018-16487" not in ids and "CVE-2015-8315" not in ids
    assert "CVE-2018-3721" in ids  # its ignore expired
    assert {s["rule"] for s in report["suppressed"]} == {
        "osv/CVE-2018-16487",
        "osv/CVE-2015-8315",
    }
    assert any("expired" in w for w in report["warnings"])


def test_stored_sbom_is_rematched_without_the_image(
    image: str, database: Path, testenv: SeawallTestEnv, tmp_path: Path, report: dict
) -> None:
    for fmt in ("json", "cyclonedx"):
        sbom = tmp_path / f"sbom.{fmt}"
        made = seawall(
            "sbom",
            image,
            "--docker-host",
            testenv.docker_host,
            "-f",
            fmt,
            "-o",
            str(sbom),
            "--no-cache",
        )
        assert made.returncode == 0, made.stderr
        result = seawall("sbom", "match", str(sbom), "--db", str(database), "--format", "json")
        assert result.returncode == 0, result.stderr
        again = scan_envelope(result.stdout)
        assert found_ids(again) == found_ids(report)


ALPINE_310 = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.10.9\nPRETTY_NAME="Alpine Linux v3.10"\n'
APK_INSTALLED = """P:apache2
V:2.4.39-r0
A:x86_64
L:Apache-2.0
o:apache2

P:busybox
V:1.30.1-r1
A:x86_64
L:GPL-2.0-only
o:busybox

P:musl
V:1.1.22-r3
A:x86_64
L:MIT
o:musl

"""
# Read off alpine/v3.10/main.yaml: apache2's fixes in 2.4.41-r0 apply to 2.4.39-r0 (the
# 2.4.39-r0 ones do not); busybox CVE-2019-5747 is fixed in 1.30.1-r2; musl is at its fix.
ALPINE_EXPECTED = {
    "apache2": {
        f"ALPINE-{cve}-apache2"
        for cve in (
            "CVE-2019-9517",
            "CVE-2019-10081",
            "CVE-2019-10082",
            "CVE-2019-10092",
            "CVE-2019-10097",
            "CVE-2019-10098",
        )
    },
    "busybox": {"ALPINE-CVE-2019-5747-busybox"},
}


def test_alpine_packages_match_the_secdb_fixes(
    build_image: BuildImage, database: Path, testenv: SeawallTestEnv, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(ALPINE_310)
    (root / "lib/apk/db").mkdir(parents=True)
    (root / "lib/apk/db/installed").write_text(APK_INSTALLED)
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY root/ /\n")
    tag = build_image(tmp_path)
    result = seawall(
        "image",
        "scan",
        tag,
        "--docker-host",
        testenv.docker_host,
        "--db",
        str(database),
        "--format",
        "json",
        "--no-cache",
    )
    found = found_ids(scan_envelope(result.stdout))
    for package, expected in ALPINE_EXPECTED.items():
        assert_exactly(found.get(package, []), expected)
    assert "musl" not in found
