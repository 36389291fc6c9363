"""``db update`` against a real local HTTP server: ETags, 304, server death, corrupt zips."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from seawall.errors import EnvironmentFailure, InputError
from seawall.vulndb.importer import import_paths
from seawall.vulndb.store import AdvisoryStore
from seawall.vulndb.update import archive_location, update
from tests.vulndb.conftest import OsvServer, osv, write_zip


def _zip(tmp_path: Path, name: str, records: dict[str, object]) -> bytes:
    return write_zip(tmp_path / name, records).read_bytes()


@pytest.fixture
def served(osv_server: OsvServer, tmp_path: Path) -> OsvServer:
    osv_server.serve(
        "PyPI",
        _zip(tmp_path, "p1.zip", {"a.json": osv("PYSEC-1"), "b.json": osv("PYSEC-2", package="b")}),
        '"p1"',
    )
    osv_server.serve(
        "Red Hat",
        _zip(
            tmp_path,
            "r1.zip",
            {"r.json": osv("RHSA-1", "Red Hat:enterprise_linux:9::appstream", "openssl")},
        ),
        '"r1"',
    )
    return osv_server


def _ids(db: Path) -> set[str]:
    with AdvisoryStore.open(db) as store:
        ids = set()
        for eco, rel, pkg in (
            ("PyPI", "", "demo"),
            ("PyPI", "", "b"),
            ("Red Hat", "enterprise_linux:9::appstream", "openssl"),
        ):
            ids |= {i for i, _ in store.affected(eco, rel, pkg)}
        return ids


def test_first_update_downloads_then_304_downloads_nothing(
    served: OsvServer, tmp_path: Path
) -> None:
    db = tmp_path / "a.db"
    report = update(db, base=served.url, ecosystems=["PyPI", "Red Hat"])
    assert report.added == 3
    assert sorted(served.downloads()) == ["/PyPI/all.zip", "/Red%20Hat/all.zip"]
    assert _ids(db) == {"PYSEC-1", "PYSEC-2", "RHSA-1"}
    built = db.stat().st_mtime_ns
    served.requests.clear()
    report = update(db, base=served.url, ecosystems=["PyPI", "Red Hat"])
    assert report.unchanged == ["PyPI", "Red Hat"]
    assert [s for _, s in served.requests] == [304, 304]
    assert db.stat().st_mtime_ns == built  # nothing rewritten


def test_changed_etag_redownloads_only_that_ecosystem(served: OsvServer, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    update(db, base=served.url, ecosystems=["PyPI", "Red Hat"])
    served.requests.clear()
    served.serve(
        "PyPI",
        _zip(tmp_path, "p2.zip", {"a.json": osv("PYSEC-1"), "c.json": osv("PYSEC-3")}),
        '"p2"',
    )
    report = update(db, base=served.url, ecosystems=["PyPI", "Red Hat"])
    assert served.downloads() == ["/PyPI/all.zip"]
    assert report.unchanged == ["Red Hat"]
    assert _ids(db) == {"PYSEC-1", "PYSEC-3", "RHSA-1"}  # PYSEC-2 gone with the old archive
    with AdvisoryStore.open(db) as store:
        sources = {s.name: s for s in store.status().sources}
        assert sources["osv:PyPI"].etag == '"p2"'
        assert sources["osv:Red Hat"].etag == '"r1"'


def test_server_dying_mid_download_keeps_the_old_db(served: OsvServer, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    update(db, base=served.url, ecosystems=["PyPI"])
    before = db.read_bytes()
    big = _zip(
        tmp_path, "p3.zip", {f"{i}.json": osv(f"PYSEC-{i}", package=f"x{i}") for i in range(2000)}
    )
    served.serve("PyPI", big, '"p3"').die_after = len(big) // 2
    with pytest.raises(EnvironmentFailure, match="downloading"):
        update(db, base=served.url, ecosystems=["PyPI"])
    assert db.read_bytes() == before
    assert _ids(db) == {"PYSEC-1", "PYSEC-2"}


def test_corrupt_zip_is_a_clear_error_and_keeps_the_old_db(
    served: OsvServer, tmp_path: Path
) -> None:
    db = tmp_path / "a.db"
    update(db, base=served.url, ecosystems=["PyPI"])
    before = db.read_bytes()
    served.serve("PyPI", b"PK\x03\x04 this is not really a zip" * 10, '"bad"')
    with pytest.raises(InputError, match="corrupt archive"):
        update(db, base=served.url, ecosystems=["PyPI"])
    with zipfile.ZipFile(tmp_path / "p4.zip", "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.json", json.dumps(osv("PYSEC-9")))
    good = (tmp_path / "p4.zip").read_bytes()
    damaged = good.replace(b"PYSEC-9", b"PYSEC-8")  # same length, CRC now wrong
    assert damaged != good
    served.serve("PyPI", damaged, '"bad2"')
    with pytest.raises(InputError, match="corrupt"):
        update(db, base=served.url, ecosystems=["PyPI"])
    assert db.read_bytes() == before


def test_http_error_and_missing_archive(served: OsvServer, tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFailure, match="HTTP 404"):
        update(tmp_path / "a.db", base=served.url, ecosystems=["npm"])
    assert not (tmp_path / "a.db").exists()


def test_corrupt_old_db_is_rebuilt_from_full_downloads(served: OsvServer, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    update(db, base=served.url, ecosystems=["PyPI"])
    db.write_bytes(b"garbage" * 1000)
    report = update(db, base=served.url, ecosystems=["PyPI"])
    assert report.added == 2
    assert any("ignored" in w for w in report.warnings)
    assert _ids(db) == {"PYSEC-1", "PYSEC-2"}


def test_local_directory_mirror(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "Go").mkdir(parents=True)
    write_zip(mirror / "Go" / "all.zip", {"g.json": osv("GO-1", "Go", "golang.org/x/net")})
    db = tmp_path / "a.db"
    assert update(db, base=str(mirror), ecosystems=["Go"]).added == 1
    assert update(db, base=f"file://{mirror}", ecosystems=["Go"]).unchanged == ["Go"]
    assert (
        archive_location("https://m.example/osv/", "Rocky Linux")
        == "https://m.example/osv/Rocky%20Linux/all.zip"
    )


def _all_rows(db: Path) -> dict[tuple[str, str, str], list[tuple[str, object]]]:
    with AdvisoryStore.open(db) as store:
        keys = [row[:3] for row in store.package_rows()]
        return {key: store.affected(*key) for key in keys}


def test_incremental_update_equals_a_full_rebuild(osv_server: OsvServer, tmp_path: Path) -> None:
    """Enough records for a trained dictionary, so old rows are carried over as they are;
    keys shared between a kept and a replaced ecosystem are rebuilt, the rest copied."""

    def pypi(version: int, count: int) -> bytes:
        records = {
            f"p{i}.json": osv(f"PYSEC-{i}", package=f"pkg{i % 150}", fixed=f"{version}.{i}")
            for i in range(count)
        }
        return _zip(tmp_path, f"p{version}.zip", records)

    npm_records = {}
    for i in range(600):
        record = osv(f"GHSA-{i}", "npm", f"js{i % 200}")
        if i % 10 == 0:  # filed under npm, also names a PyPI package the PyPI archive names
            record["affected"].append(osv("x", package=f"pkg{i % 150}")["affected"][0])
        npm_records[f"n{i}.json"] = record
    osv_server.serve("npm", _zip(tmp_path, "n.zip", npm_records), '"n"')
    osv_server.serve("PyPI", pypi(1, 700), '"p1"')
    db = tmp_path / "a.db"
    update(db, base=osv_server.url, ecosystems=["PyPI", "npm"])
    osv_server.serve("PyPI", pypi(2, 650), '"p2"')  # 50 gone, all changed
    report = update(db, base=osv_server.url, ecosystems=["PyPI", "npm"])
    assert (report.kept, report.added, report.unchanged) == (600, 650, ["npm"])

    fresh = tmp_path / "fresh.db"
    update(fresh, base=osv_server.url, ecosystems=["PyPI", "npm"])
    assert _all_rows(db) == _all_rows(fresh)
    with AdvisoryStore.open(db) as store:
        assert store.advisory("PYSEC-7").affected[0].ranges[0].events[-1] == ("fixed", "2.7")
        with pytest.raises(KeyError):
            store.advisory("PYSEC-690")
        ids = {i for i, _ in store.affected("PyPI", "", "pkg10")}
        assert "GHSA-10" in ids and "PYSEC-10" in ids
        assert store.verify() > 0
        assert store.dictionary  # trained: the old rows were carried over as they are

    withdrawn = {"w.json": osv("GHSA-10", "npm", "js10", withdrawn="2024-05-05T00:00:00Z")}
    import_paths(db, [write_zip(tmp_path / "w.zip", withdrawn)])
    with AdvisoryStore.open(db) as store:
        assert "GHSA-10" not in {i for i, _ in store.affected("PyPI", "", "pkg10")}
        assert "GHSA-10" not in {i for i, _ in store.affected("npm", "", "js10")}
        assert {i for i, _ in store.affected("npm", "", "js10")} == {"GHSA-210", "GHSA-410"}
        assert store.status().advisories == 1249
