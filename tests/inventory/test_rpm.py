"""The rpm database analyzer on real SQLite, Berkeley DB and NDB databases (see SOURCES.md)."""

from __future__ import annotations

import contextlib
import io
import sqlite3
import struct
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.inventory.analyzer import AnalyzerIndex
from seawall.inventory.analyzers import _rpmdb
from seawall.inventory.analyzers._rpmheader import parse_header, split_source_rpm
from seawall.inventory.analyzers.rpm import RpmDatabaseAnalyzer
from seawall.model import Ecosystem, Package

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory" / "rpm"


def analyze(fixture: str, path: str = "var/lib/rpm/Packages") -> list[Package]:
    out = RpmDatabaseAnalyzer().analyze(path, io.BytesIO((FIXTURES / fixture).read_bytes()))
    assert out.warnings == []
    return out.packages


def header_blobs() -> list[bytes]:
    uri = f"file:{FIXTURES / 'rpmdb.sqlite'}?mode=ro&immutable=1"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        return [row[0] for row in conn.execute("SELECT blob FROM Packages ORDER BY hnum")]


BLOBS = header_blobs()

DEMO = Package(
    ecosystem=Ecosystem.RPM,
    name="seawall-demo",
    version="2:1.2.3-4.el9",
    path="var/lib/rpm/rpmdb.sqlite",
    source_name="seawall-demo",
    source_version="2:1.2.3-4.el9",
    arch="noarch",
    licenses=("MIT",),
    owned_files=(
        "usr/bin/demo",
        "usr/lib/python3.9/site-packages/demo-1.2.3.dist-info",
        "usr/lib/python3.9/site-packages/demo-1.2.3.dist-info/METADATA",
    ),
)
EXPECTED = {
    # name: (version, arch, source name, source version, licence, owned files)
    "seawall-tools-libs": (
        "0.9-1.el9",
        "x86_64",
        "seawall-tools",
        "0.9-1.el9",
        "Apache-2.0 AND MIT",
        (),
    ),
    "seawall-tools": (
        "0.9-1.el9",
        "x86_64",
        "seawall-tools",
        "0.9-1.el9",
        "Apache-2.0 AND MIT",
        ("usr/sbin/seawalld", "usr/share/java/seawall-tools.jar"),
    ),
    "seawall-demo": (
        DEMO.version,
        DEMO.arch,
        DEMO.source_name,
        DEMO.source_version,
        "MIT",
        DEMO.owned_files,
    ),
    "seawall-big": (
        "5.0-7.fc39",
        "noarch",
        "seawall-big",
        "5.0-7.fc39",
        "BSD-3-Clause",
        ("usr/lib/node_modules/leftpad/package.json",),
    ),
}


def summary(packages: list[Package]) -> dict[str, tuple[object, ...]]:
    return {
        p.name: (
            p.version,
            p.arch,
            p.source_name,
            p.source_version,
            *p.licenses,
            p.owned_files,
        )
        for p in packages
    }


def test_sqlite_database() -> None:
    packages = analyze("rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite")
    # Installation order; the imported gpg-pubkey (first row) is skipped.
    assert [p.name for p in packages] == [
        "seawall-tools-libs",
        "seawall-tools",
        "seawall-demo",
        "seawall-big",
    ]
    assert summary(packages) == EXPECTED
    assert packages[2] == DEMO


def test_sqlite_leaves_no_temporary_file() -> None:
    before = set(Path(tempfile.gettempdir()).glob("seawall-rpmdb-*"))
    analyze("rpmdb.sqlite")
    assert set(Path(tempfile.gettempdir()).glob("seawall-rpmdb-*")) == before


@pytest.mark.parametrize("fixture", ["Packages", "Packages-be", "Packages-16k"])
def test_berkeley_db_hash(fixture: str) -> None:
    # 4 KiB pages: every header is in overflow pages, seawall-big's spans ~15 of them.
    # 16 KiB pages: the small headers are stored on the hash page itself.
    packages = analyze(fixture)
    assert summary(packages) == EXPECTED
    assert {p.path for p in packages} == {"var/lib/rpm/Packages"}


def test_berkeley_db_fixture_layouts() -> None:
    """The fixtures really exercise both item kinds and both byte orders."""
    kinds: dict[str, set[int]] = {}
    for fixture in ("Packages", "Packages-be", "Packages-16k"):
        db = _rpmdb._BdbFile(io.BytesIO((FIXTURES / fixture).read_bytes()))
        seen: set[int] = set()
        for pgno in range(1, db.page_count):
            page = db.page(pgno)
            if page[25] == 13:
                items = db.items(page)
                for (key, _), (value, _) in zip(items[0::2], items[1::2], strict=True):
                    if page[key : key + 5] != b"\x01\0\0\0\0":  # record 0: rpm's counter
                        seen.add(page[value])
        kinds[fixture] = seen
        assert db.order == (">" if fixture == "Packages-be" else "<")
    assert kinds == {"Packages": {3}, "Packages-be": {3}, "Packages-16k": {1, 3}}


def test_ndb_database() -> None:
    # Made by rpm's own NDB backend; seawall-demo was erased again, leaving a free slot.
    packages = analyze("Packages.db", "usr/lib/sysimage/rpm/Packages.db")
    expected = {k: v for k, v in EXPECTED.items() if k != "seawall-demo"}
    assert summary(packages) == expected


def test_index_selection() -> None:
    index = AnalyzerIndex([RpmDatabaseAnalyzer()])
    for path in (
        "var/lib/rpm/Packages",
        "var/lib/rpm/rpmdb.sqlite",
        "var/lib/rpm/Packages.db",
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
        "usr/lib/sysimage/rpm/Packages.db",
    ):
        assert index.candidates(path, False), path
    assert not index.candidates("var/lib/rpm/Index.db", False)
    assert not index.candidates("var/lib/rpm/rpmdb.sqlite-shm", False)


def test_unknown_format_is_value_error() -> None:
    with pytest.raises(ValueError, match="magic"):
        RpmDatabaseAnalyzer().analyze("var/lib/rpm/Packages", io.BytesIO(b"\0" * 4096))


def test_header_fields() -> None:
    header = parse_header(BLOBS[3])
    assert (header.name, header.epoch, header.version, header.release) == (
        "seawall-demo",
        2,
        "1.2.3",
        "4.el9",
    )
    assert header.source_rpm == "seawall-demo-1.2.3-4.el9.src.rpm"
    assert header.files() == [
        "/usr/bin/demo",
        "/usr/lib/python3.9/site-packages/demo-1.2.3.dist-info",
        "/usr/lib/python3.9/site-packages/demo-1.2.3.dist-info/METADATA",
        "/usr/share/doc/seawall-demo/README",
    ]
    assert header.modularity_label == ""
    assert parse_header(BLOBS[1]).modularity_label == "seawall:1:9020020231114:8b8c6e1c"
    big = parse_header(BLOBS[-1])
    assert len(big.files()) == 300 + 40 + 2 + 1  # files, their directories, leftpad, top dir
    pubkey = parse_header(BLOBS[0])
    assert (pubkey.name, pubkey.arch) == ("gpg-pubkey", "")


def test_split_source_rpm() -> None:
    assert split_source_rpm("openssl-3.0.7-24.el9.src.rpm") == ("openssl", "3.0.7-24.el9")
    assert split_source_rpm("python3.11-3.11.5-1.el9_3.src.rpm") == (
        "python3.11",
        "3.11.5-1.el9_3",
    )
    assert split_source_rpm("kernel-5.14.0-362.el9.nosrc.rpm") == ("kernel", "5.14.0-362.el9")
    assert split_source_rpm("(none)") == ("", "")
    assert split_source_rpm("broken.src.rpm") == ("", "")


def test_truncated_header_is_value_error() -> None:
    blob = BLOBS[3]
    for cut in (0, 7, 8 + 16, len(blob) - 1):
        with pytest.raises(ValueError):
            parse_header(blob[:cut])


def test_bad_header_becomes_warning() -> None:
    db = bytearray((FIXTURES / "Packages.db").read_bytes())
    blob = BLOBS[1]  # seawall-tools-libs, the first package in the NDB file
    at = bytes(db).find(blob[:64])
    assert at > 0
    db[at : at + 4] = struct.pack(">I", 0x10000)  # il beyond rpm's limit
    out = RpmDatabaseAnalyzer().analyze("var/lib/rpm/Packages.db", io.BytesIO(bytes(db)))
    assert [p.name for p in out.packages] == ["seawall-tools", "seawall-big"]
    assert len(out.warnings) == 1
    assert "implausible size" in out.warnings[0]


def run_bounded(data: bytes) -> None:
    """Analyze ``data``; anything but ValueError (or a result) fails, and it must be fast."""
    start = time.monotonic()
    with contextlib.suppress(ValueError):
        RpmDatabaseAnalyzer().analyze("var/lib/rpm/Packages", io.BytesIO(data))
    assert time.monotonic() - start < 2


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_header_random_bytes(data: bytes) -> None:
    with contextlib.suppress(ValueError):
        parse_header(data)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_header_mutations(data: st.DataObject) -> None:
    blob = bytearray(data.draw(st.sampled_from(BLOBS[:4])))
    for _ in range(data.draw(st.integers(1, 8))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    with contextlib.suppress(ValueError):
        header = parse_header(bytes(blob))
        header.files()


def mutate(data: st.DataObject, original: bytes, hot: int) -> bytes:
    """Change a few bytes, most of them in the first ``hot`` bytes (metadata, slots)."""
    blob = bytearray(original)
    for _ in range(data.draw(st.integers(1, 12))):
        limit = hot if data.draw(st.booleans()) else len(blob)
        blob[data.draw(st.integers(0, min(limit, len(blob)) - 1))] = data.draw(st.integers(0, 255))
    return bytes(blob)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from(["Packages", "Packages-be", "Packages-16k"]))
def test_berkeley_db_mutations(data: st.DataObject, fixture: str) -> None:
    run_bounded(mutate(data, (FIXTURES / fixture).read_bytes(), 4096 * 3))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_ndb_mutations(data: st.DataObject) -> None:
    run_bounded(mutate(data, (FIXTURES / "Packages.db").read_bytes(), 4096))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([b"", b"RpmP\0\0\0\0", b"\0" * 12 + struct.pack("<I", 0x061561)]),
    st.binary(max_size=8192),
)
def test_random_bytes_behind_magic(prefix: bytes, tail: bytes) -> None:
    run_bounded(prefix + tail)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_sqlite_mutations(data: st.DataObject) -> None:
    run_bounded(mutate(data, (FIXTURES / "rpmdb.sqlite").read_bytes(), 8192))


def test_ndb_slots_sharing_one_blob_are_bounded() -> None:
    db = bytearray((FIXTURES / "Packages.db").read_bytes())
    slots = [struct.unpack_from("<4sIII", db, at) for at in range(32, 4096, 16)]
    biggest = max((s for s in slots if s[2]), key=lambda s: s[3])
    for at in range(32, 4096, 16):
        struct.pack_into("<4sIII", db, at, *biggest)
    start = time.monotonic()
    with pytest.raises(ValueError, match="more data than the file"):
        RpmDatabaseAnalyzer().analyze("var/lib/rpm/Packages.db", io.BytesIO(bytes(db)))
    assert time.monotonic() - start < 2


def test_bdb_items_sharing_one_overflow_chain() -> None:
    db = bytearray((FIXTURES / "Packages").read_bytes())
    # Point every off-page item at the longest chain (seawall-big's).
    page_size = 4096
    refs: list[int] = []
    for pgno in range(1, len(db) // page_size):
        page = pgno * page_size
        if db[page + 25] != 13:
            continue
        entries = struct.unpack_from("<H", db, page + 20)[0]
        for index in range(1, entries, 2):
            item = page + struct.unpack_from("<H", db, page + 26 + 2 * index)[0]
            if db[item] == 3:
                refs.append(item)
    longest = max(refs, key=lambda item: struct.unpack_from("<I", db, item + 8)[0])
    for item in refs:
        db[item + 4 : item + 12] = db[longest + 4 : longest + 12]
    out = RpmDatabaseAnalyzer().analyze("var/lib/rpm/Packages", io.BytesIO(bytes(db)))
    # The gpg-pubkey item now points at seawall-big's header too: five copies, no error.
    assert [p.name for p in out.packages] == ["seawall-big"] * len(refs) == ["seawall-big"] * 5
