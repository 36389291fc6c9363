"""Hostile import inputs: zip bombs, escaping names, huge and deep records, symlinks."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from seawall.errors import InputError, UnsafeInputError
from seawall.safety.limits import BYTES
from seawall.vulndb import inputs
from seawall.vulndb.importer import import_paths
from seawall.vulndb.inputs import Record, Skipped, iter_path, iter_zip
from seawall.vulndb.store import AdvisoryStore
from tests.vulndb.conftest import osv, write_zip


def test_zip_member_names_that_escape_are_skipped_and_reported(tmp_path: Path) -> None:
    archive = write_zip(
        tmp_path / "a.zip",
        {
            "../../etc/evil.json": osv("E-1"),
            "/abs.json": osv("E-2"),
            "C:/win.json": osv("E-3"),
            "ok/good.json": osv("G-1"),
        },
    )
    items = list(iter_zip(archive))
    assert [i.name for i in items if isinstance(i, Record)] == ["ok/good.json"]
    assert {i.name for i in items if isinstance(i, Skipped)} == {
        "../../etc/evil.json",
        "/abs.json",
        "C:/win.json",
    }
    assert not (tmp_path.parent / "etc").exists()


def test_zip_bomb_member_is_skipped(tmp_path: Path) -> None:
    bomb = b'{"id": "B-1", "details": "' + b"A" * (8 * 1024 * 1024) + b'"}'
    archive = write_zip(tmp_path / "bomb.zip", {"bomb.json": bomb, "ok.json": osv("G-1")})
    items = list(iter_zip(archive))
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert len(skipped) == 1 and "ratio" in skipped[0].reason
    assert [i.name for i in items if isinstance(i, Record)] == ["ok.json"]


def test_member_larger_than_the_record_limit_is_skipped_unread(tmp_path: Path) -> None:
    huge = b"[" + b" " * (BYTES["OSV_RECORD"] + 10) + b"]"
    archive = write_zip(tmp_path / "huge.zip", {"huge.json": huge})
    (item,) = list(iter_zip(archive))
    assert isinstance(item, Skipped) and "limit" in item.reason


def test_member_that_lies_about_its_size_is_cut_at_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEAWALL_MAX_OSV_RECORD_BYTES", "1000")
    archive = write_zip(tmp_path / "a.zip", {"big.json": b"[" + b"1," * 5000 + b"1]"})
    (item,) = list(iter_zip(archive))
    assert isinstance(item, Skipped)


def test_too_many_members_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "MAX_MEMBERS", 5)
    archive = write_zip(tmp_path / "many.zip", {f"{i}.json": osv(f"M-{i}") for i in range(6)})
    with pytest.raises(UnsafeInputError):
        list(iter_zip(archive))


def test_truncated_zip_is_an_input_error(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "a.zip", {f"{i}.json": osv(f"M-{i}") for i in range(50)})
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError):
        list(iter_path(archive))


def test_corrupt_member_data_is_an_input_error(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        z.writestr("a.json", json.dumps(osv("C-1")))
    data = bytearray(archive.read_bytes())
    offset = data.index(b'"C-1"')
    data[offset + 1] = ord("X")  # the stored CRC no longer matches
    archive.write_bytes(bytes(data))
    with pytest.raises(InputError, match="corrupt member"):
        list(iter_zip(archive))


def test_directory_walk_does_not_follow_symlinks(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text(json.dumps(osv("S-1")))
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "good.json").write_text(json.dumps(osv("G-1")))
    os.symlink(outside, tree / "link")
    os.symlink(outside / "secret.json", tree / "file-link.json")
    names = [i.name for i in iter_path(tree)]
    assert names == ["good.json"]


def test_one_bad_record_never_stops_an_import(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(20):
        (tree / f"r{i}.json").write_text(json.dumps(osv(f"G-{i}", package=f"p{i}")))
    (tree / "deep.json").write_bytes(b"[" * 50_000 + b"]" * 50_000)
    (tree / "bad.yaml").write_text("id: [unclosed\n")
    (tree / "shape.json").write_text('{"id": 5}')
    report = import_paths(tmp_path / "a.db", [tree])
    assert (report.added, report.malformed) == (20, 3)
    assert {e.split(":")[0] for e in report.examples} == {"deep.json", "bad.yaml", "shape.json"}
    with AdvisoryStore.open(tmp_path / "a.db") as store:
        assert store.status().advisories == 20


def test_only_regular_files_are_opened(tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text(json.dumps(osv("G-1")))
    os.mkfifo(tmp_path / "pipe.json")
    items = list(iter_path(tmp_path))
    assert [i.name for i in items if isinstance(i, Record)] == ["ok.json"]
    assert [(i.name, i.reason) for i in items if isinstance(i, Skipped)] == [
        ("pipe.json", "a FIFO, not a regular file")
    ]
    for named in (tmp_path / "pipe.json", Path("/dev/zero")):
        with pytest.raises(InputError, match="not a regular file"):
            list(iter_path(named))


def test_a_record_of_the_wrong_shape_names_the_field() -> None:
    from seawall.vulndb.osv import RecordError, decode

    for data, name in (
        (b'{"id": "X", "affected": "x"}', "r.json"),
        (b"id: X\naffected: x\n", "r.yaml"),
    ):
        with pytest.raises(
            RecordError, match=r"^field affected: expected list or null, got string$"
        ):
            decode(data, name)
    with pytest.raises(RecordError, match="nested deeper than 64 levels"):
        decode(b'{"id": "X", "details": ' + b"[" * 100_000, "deep.json")


def test_enrichment_files_are_regular_bounded_and_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    from seawall.vulndb.enrich import read_epss, read_kev

    for reader in (read_kev, read_epss):
        with pytest.raises(InputError, match="a character device"):
            reader(Path("/dev/zero"))
    kev = tmp_path / "known_exploited_vulnerabilities.json"
    kev.write_text('{"vulnerabilities": 3}')
    with pytest.raises(InputError, match="field vulnerabilities: expected list, got int"):
        read_kev(kev)
    epss = tmp_path / "epss.csv.gz"
    epss.write_bytes(gzip.compress(b"cve,epss,percentile\n" + b"\n" * 100_000))
    monkeypatch.setenv("SEAWALL_MAX_EPSS_BYTES", "50000")
    with pytest.raises(InputError, match="larger than 50000 bytes"):
        read_epss(epss)
