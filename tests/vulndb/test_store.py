"""The store: import real records, look up, replace, withdraw, enrich, export, corruption,
and a build that dies half-way leaving the old store working."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seawall.errors import SeawallError
from seawall.model import Severity
from seawall.vulndb.importer import import_paths
from seawall.vulndb.store import AdvisoryStore, StoreError
from seawall.vulndb.writer import export_bundle
from tests.vulndb.conftest import FIXTURES, osv, write_zip


@pytest.fixture
def real_db(tmp_path: Path) -> Path:
    db = tmp_path / "db" / "advisories.db"
    import_paths(db, [FIXTURES])
    return db


def test_real_fixtures_are_indexed_by_ecosystem_and_package(real_db: Path) -> None:
    with AdvisoryStore.open(real_db) as store:
        status = store.status()
        assert set(status.ecosystems) == {"PyPI", "Go", "crates.io"}
        assert status.advisories == sum(c.advisories for c in status.ecosystems.values())
        assert 270 < status.advisories < 300
        record = json.loads((FIXTURES / "crates.io" / "RUSTSEC-2026-0020.json").read_text())
        entries = store.affected("crates.io", "", "wasmtime")
        assert "RUSTSEC-2026-0020" in {i for i, _ in entries}
        entry = next(e for i, e in entries if i == "RUSTSEC-2026-0020")
        assert entry.ranges[0].events[1] == ("fixed", "24.0.6")
        advisory = store.advisory("RUSTSEC-2026-0020")
        assert advisory.aliases == tuple(record["aliases"])
        assert advisory.cvss_vector.startswith("CVSS:4.0/")
        assert store.affected("crates.io", "", "no-such-crate") == []
        assert store.verify() == status.advisories + status.packages
        with pytest.raises(KeyError):
            store.advisory("NOPE-1")


def test_pypi_lookup_is_pep503_normalised(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    write_zip(tmp_path / "a.zip", {"a.json": osv("PYSEC-1", "PyPI", "Zope.Interface_x")})
    import_paths(db, [tmp_path / "a.zip"])
    with AdvisoryStore.open(db) as store:
        for spelling in ("zope-interface-x", "Zope_Interface.X", "ZOPE--interface__x"):
            assert [i for i, _ in store.affected("PyPI", "", spelling)] == ["PYSEC-1"]


def test_distro_releases_are_split_once(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    write_zip(
        tmp_path / "a.zip",
        {
            "d.json": osv("DSA-1", "Debian:12", "openssl"),
            "u.json": osv("USN-1", "Ubuntu:22.04:LTS", "openssl"),
            "a.json": osv("ALPINE-1", "Alpine:v3.19", "openssl"),
        },
    )
    import_paths(db, [tmp_path / "a.zip"])
    with AdvisoryStore.open(db) as store:
        assert [i for i, _ in store.affected("Debian", "12", "openssl")] == ["DSA-1"]
        assert [i for i, _ in store.affected("Ubuntu", "22.04", "openssl")] == ["USN-1"]
        entries = store.affected("Alpine", "3.19", "openssl")
        assert [(i, e.ecosystem) for i, e in entries] == [("ALPINE-1", "Alpine:v3.19")]
        assert store.affected("Debian", "11", "openssl") == []


def test_reimport_replaces_same_id_and_withdrawn_removes(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    write_zip(
        tmp_path / "1.zip", {"a.json": osv("X-1", fixed="1.0"), "b.json": osv("X-2", package="b")}
    )
    import_paths(db, [tmp_path / "1.zip"])
    write_zip(
        tmp_path / "2.zip",
        {
            "a.json": osv("X-1", fixed="3.0"),
            "b.json": osv("X-2", package="b", withdrawn="2024-02-02T00:00:00Z"),
        },
    )
    report = import_paths(db, [tmp_path / "2.zip"])
    assert (report.kept, report.withdrawn, report.total) == (2, 1, 1)
    with AdvisoryStore.open(db) as store:
        ((_advisory_id, entry),) = store.affected("PyPI", "", "demo")
        assert entry.ranges[0].events[-1] == ("fixed", "3.0")
        assert store.affected("PyPI", "", "b") == []
        with pytest.raises(KeyError):
            store.advisory("X-2")


def test_kev_and_epss_enrich_through_aliases(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    kev = tmp_path / "known_exploited_vulnerabilities.json"
    kev.write_text(
        json.dumps(
            {
                "catalogVersion": "2024.01.01",
                "count": 1,
                "vulnerabilities": [{"cveID": "CVE-2024-0001", "vendorProject": "x"}],
            }
        )
    )
    epss = tmp_path / "epss_scores-2024-01-01.csv"
    epss.write_text(
        "#model_version:v2023.03.01,score_date:2024-01-01T00:00:00+0000\n"
        "cve,epss,percentile\nCVE-2024-0001,0.97,0.999\nCVE-2024-0002,0.01,0.2\nbad\n"
    )
    write_zip(
        tmp_path / "a.zip",
        {
            "a.json": osv("GHSA-a", aliases=["CVE-2024-0001"]),
            "b.json": osv("GHSA-b", package="b", upstream=["CVE-2024-0002"]),
            "c.json": osv("GHSA-c", package="c"),
        },
    )
    report = import_paths(db, [tmp_path / "a.zip", kev, epss])
    assert (report.kev, report.epss) == (1, 2)
    with AdvisoryStore.open(db) as store:
        a, b, c = (store.advisory(i) for i in ("GHSA-a", "GHSA-b", "GHSA-c"))
        assert (a.known_exploited, a.epss) == (True, 0.97)
        assert (b.known_exploited, b.epss) == (False, 0.01)
        assert (c.known_exploited, c.epss) == (False, None)
        assert {s.name for s in store.status().sources} >= {"kev", "epss"}
    # Enrichment survives a later import that does not mention it.
    write_zip(tmp_path / "d.zip", {"d.json": osv("GHSA-d", package="d")})
    import_paths(db, [tmp_path / "d.zip"])
    with AdvisoryStore.open(db) as store:
        assert store.advisory("GHSA-a").known_exploited


def test_export_bundle_round_trip(real_db: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.sqlite"
    export_bundle(real_db, bundle)
    offline = tmp_path / "offline.db"
    import_paths(offline, [bundle])
    with AdvisoryStore.open(real_db) as a, AdvisoryStore.open(offline) as b:
        sa, sb = a.status(), b.status()
        assert (sa.advisories, sa.packages, sa.ecosystems) == (
            sb.advisories,
            sb.packages,
            sb.ecosystems,
        )
        assert a.advisory("RUSTSEC-2026-0020") == b.advisory("RUSTSEC-2026-0020")
        assert a.affected("Go", "", "stdlib") == b.affected("Go", "", "stdlib")
        assert {s.name for s in sa.sources} <= {s.name for s in sb.sources}


def test_corrupted_row_gives_a_clear_error(real_db: Path) -> None:
    with sqlite3.connect(real_db) as conn:
        advisory_id, blob = conn.execute(
            "SELECT id, data FROM advisories ORDER BY rowid LIMIT 1"
        ).fetchone()
    data = bytearray(real_db.read_bytes())
    data[data.index(bytes(blob)[:32]) + 10] ^= 0xFF
    real_db.write_bytes(bytes(data))
    with AdvisoryStore.open(real_db) as store, pytest.raises(StoreError) as caught:
        store.advisory(advisory_id)
    assert "corrupt" in str(caught.value) and "seawall db update" in str(caught.value)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "zero-header", "meta-count"])
def test_damaged_file_gives_a_clear_error_on_open(real_db: Path, damage: str) -> None:
    data = real_db.read_bytes()
    if damage == "truncate":
        real_db.write_bytes(data[: len(data) // 3])
    elif damage == "garbage":
        real_db.write_bytes(b"not a database at all" * 100)
    elif damage == "zero-header":
        real_db.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200 + data[216:])
    else:
        with sqlite3.connect(real_db) as conn:
            conn.execute("DELETE FROM packages WHERE rowid IN (SELECT rowid FROM packages LIMIT 3)")
    with pytest.raises(StoreError) as caught:
        store = AdvisoryStore.open(real_db)
        store.verify()
    assert "seawall db update" in str(caught.value)
    assert isinstance(caught.value, SeawallError)


def test_missing_db_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no advisory database"):
        AdvisoryStore.open(tmp_path / "none.db")


def test_exception_mid_build_leaves_the_old_store_working(real_db: Path, tmp_path: Path) -> None:
    before = real_db.read_bytes()
    big = write_zip(
        tmp_path / "big.zip", {f"{i}.json": osv(f"N-{i}", package=f"p{i}") for i in range(3000)}
    )

    def die(added: int) -> None:
        assert list(real_db.parent.glob(".advisories.db.*.tmp")), "the new file is being written"
        raise RuntimeError(f"killed after {added}")

    with pytest.raises(RuntimeError, match="killed after 1000"):
        import_paths(real_db, [big], progress=die)
    assert real_db.read_bytes() == before
    assert not list(real_db.parent.glob(".advisories.db.*.tmp"))
    with AdvisoryStore.open(real_db) as store:
        assert store.affected("PyPI", "", "p1") == []
        assert store.verify() > 0


def test_sigkill_mid_import_leaves_the_old_store_working(real_db: Path, tmp_path: Path) -> None:
    before = real_db.read_bytes()
    tree = tmp_path / "many"
    tree.mkdir()
    record = json.dumps(osv("K-0")).encode()
    for i in range(40_000):
        (tree / f"{i}.json").write_bytes(record.replace(b"K-0", f"K-{i}".encode()))
    process = subprocess.Popen(
        [sys.executable, "-m", "seawall", "db", "import", str(tree), "--db", str(real_db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not list(real_db.parent.glob(".advisories.db.*.tmp")):
        assert process.poll() is None and time.monotonic() < deadline, "import never started"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert real_db.read_bytes() == before
    with AdvisoryStore.open(real_db) as store:
        assert store.advisory("RUSTSEC-2026-0020").id == "RUSTSEC-2026-0020"
    # The next write removes the killed build's leftovers.
    import_paths(real_db, [write_zip(tmp_path / "s.zip", {"s.json": osv("S-1")})])
    assert not list(real_db.parent.glob(".advisories.db.*.tmp"))
    with AdvisoryStore.open(real_db) as store:
        assert store.advisory("S-1").severity is Severity.UNKNOWN


def test_a_new_kev_catalog_replaces_the_old_one(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    kev = tmp_path / "known_exploited_vulnerabilities.json"
    write_zip(tmp_path / "a.zip", {"a.json": osv("GHSA-a", aliases=["CVE-2024-0001"])})
    kev.write_text(json.dumps({"vulnerabilities": [{"cveID": "CVE-2024-0001"}]}))
    import_paths(db, [tmp_path / "a.zip", kev])
    kev.write_text(json.dumps({"vulnerabilities": [{"cveID": "CVE-2024-0009"}]}))
    import_paths(db, [], kev=kev)
    with AdvisoryStore.open(db) as store:
        assert not store.advisory("GHSA-a").known_exploited
        assert store.status().kev == 1
