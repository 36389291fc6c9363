"""Advisory databases from elsewhere: checked before SQLite is trusted with them (header,
schema, limits), and every problem one StoreError (an InputError for a bundle)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.errors import InputError
from seawall.vulndb.importer import import_paths
from seawall.vulndb.store import AdvisoryStore, StoreError
from tests.vulndb.conftest import osv, write_zip


@pytest.fixture(scope="module")
def good_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("good")
    archive = write_zip(work / "a.zip", {f"{i}.json": osv(f"GHSA-{i}", package=f"p{i}")
                                         for i in range(20)})  # fmt: skip
    db = work / "advisories.db"
    import_paths(db, [archive])
    return db


def altered(good_db: Path, tmp_path: Path, *statements: str) -> Path:
    """A copy of ``good_db`` with ``statements`` run on it."""
    copy = tmp_path / "hostile.db"
    shutil.copyfile(good_db, copy)
    with sqlite3.connect(copy) as connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()
    return copy


def patched(good_db: Path, tmp_path: Path, offset: int, data: bytes) -> Path:
    copy = tmp_path / "hostile.db"
    content = bytearray(good_db.read_bytes())
    content[offset : offset + len(data)] = data
    copy.write_bytes(bytes(content))
    return copy


def test_a_real_database_opens(good_db: Path) -> None:
    with AdvisoryStore.open(good_db) as store:
        assert store.status().advisories == 20
        assert store.verify() == 40


SCHEMA_ATTACKS: dict[str, tuple[str, ...]] = {
    "zeroblob-view": ("CREATE VIEW bomb AS SELECT zeroblob(2000000000) AS data",),
    "table-replaced-by-view": (
        "DROP TABLE advisories",
        "CREATE VIEW advisories AS SELECT 'GHSA-0' AS id, '' AS source, '' AS cves, 0 AS crc,"
        " zeroblob(2700000000) AS data",
    ),
    "trigger": ("CREATE TRIGGER t AFTER INSERT ON kev BEGIN SELECT zeroblob(1); END",),
    "extra-table": ("CREATE TABLE extra (x)",),
    "expression-index": ("CREATE INDEX i ON advisories (length(id) + crc)",),
    "missing-table": ("DROP TABLE epss",),
    "virtual-table": (
        "DROP TABLE kev",
        "CREATE VIRTUAL TABLE kev USING rtree(cve, a, b)",
    ),
    "generated-column": (
        "ALTER TABLE kev RENAME TO old_kev",
        "CREATE TABLE kev (cve TEXT PRIMARY KEY, b BLOB AS (zeroblob(2000000000))) WITHOUT ROWID",
        "DROP TABLE old_kev",
    ),
    "default-zeroblob": (
        "DROP TABLE dictionary",
        "CREATE TABLE dictionary (data BLOB NOT NULL DEFAULT (zeroblob(2000000000)))",
    ),
}


@pytest.mark.parametrize("statements", SCHEMA_ATTACKS.values(), ids=SCHEMA_ATTACKS.keys())
def test_a_schema_other_than_the_expected_one_is_refused(
    good_db: Path, tmp_path: Path, statements: tuple[str, ...]
) -> None:
    hostile = altered(good_db, tmp_path, *statements)
    with pytest.raises(StoreError, match=r"is corrupt or unreadable: .*(schema|columns)"):
        AdvisoryStore.open(hostile)


HEADER_ATTACKS: dict[str, tuple[int, bytes, str]] = {
    "page-size-not-a-power-of-two": (16, struct.pack(">H", 3000), "page size 3000"),
    "page-size-too-small": (16, struct.pack(">H", 256), "page size 256"),
    "page-size-bigger-than-the-file": (16, struct.pack(">H", 1), "whole number of 65536"),
    "page-count-beyond-the-file": (28, struct.pack(">I", 10_000_000), "claims 10000000 pages"),
    "utf-16": (56, struct.pack(">I", 2), "not UTF-8"),
    "payload-fractions": (21, b"\xff", "payload fractions"),
}


@pytest.mark.parametrize(
    ("offset", "data", "message"), HEADER_ATTACKS.values(), ids=HEADER_ATTACKS.keys()
)
def test_a_forged_header_is_refused(
    good_db: Path, tmp_path: Path, offset: int, data: bytes, message: str
) -> None:
    with pytest.raises(StoreError, match=message):
        AdvisoryStore.open(patched(good_db, tmp_path, offset, data))


def test_only_regular_files_within_the_cap_are_opened(
    good_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "fifo.db"
    os.mkfifo(fifo)
    for path, message in ((fifo, "a FIFO"), (Path("/dev/zero"), "a character device")):
        with pytest.raises(StoreError, match=message):
            AdvisoryStore.open(path)
    monkeypatch.setenv("SEAWALL_MAX_DATABASE_BYTES", "4096")
    with pytest.raises(StoreError, match="larger than 4096 bytes"):
        AdvisoryStore.open(good_db)


def _forge(good_db: Path, tmp_path: Path, blob: bytes) -> Path:
    """A copy whose first advisory holds ``blob`` under a CRC that matches it."""
    return altered(
        good_db, tmp_path,
        f"UPDATE advisories SET data = x'{blob.hex()}', crc = {zlib.crc32(blob)}"
        " WHERE rowid = 1",
    )  # fmt: skip


def _first_id(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return str(connection.execute("SELECT id FROM advisories WHERE rowid = 1").fetchone()[0])


@pytest.mark.parametrize(
    "make",
    [
        lambda: zstandard.ZstdCompressor().compress(b"\0" * 5_000_000),  # claims 5 MB
        # no size claimed: found out while inflating
        lambda: zstandard.ZstdCompressor(write_content_size=False).compress(b"\0" * 5_000_000),
    ],
    ids=["content-size-claimed", "no-content-size"],
)
def test_a_row_that_inflates_past_the_cap_is_refused(
    good_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Callable[[], bytes]
) -> None:
    hostile = _forge(good_db, tmp_path, make())
    monkeypatch.setenv("SEAWALL_MAX_DATABASE_ROW_BYTES", "1000000")
    with AdvisoryStore.open(hostile) as store, pytest.raises(StoreError, match="advisory"):
        store.advisory(_first_id(hostile))


def test_a_value_longer_than_the_row_cap_is_refused_by_sqlite(
    good_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = _forge(good_db, tmp_path, os.urandom(200_000))
    monkeypatch.setenv("SEAWALL_MAX_DATABASE_ROW_BYTES", "100000")
    with AdvisoryStore.open(hostile) as store, pytest.raises(StoreError, match="too big"):
        store.advisory(_first_id(hostile))


def test_a_value_of_the_wrong_type_is_refused(good_db: Path, tmp_path: Path) -> None:
    hostile = altered(good_db, tmp_path, "UPDATE advisories SET crc = 'x' WHERE rowid = 1")
    with AdvisoryStore.open(hostile) as store, pytest.raises(StoreError, match="wrong type"):
        store.advisory(_first_id(hostile))


def test_a_hostile_bundle_is_an_input_error(good_db: Path, tmp_path: Path) -> None:
    hostile = altered(good_db, tmp_path, *SCHEMA_ATTACKS["zeroblob-view"])
    with pytest.raises(InputError, match=r"^bundle .*hostile\.db is corrupt"):
        import_paths(tmp_path / "new.db", [hostile])


def test_a_bundle_with_a_damaged_page_is_refused_before_it_is_copied(
    good_db: Path, tmp_path: Path
) -> None:
    with sqlite3.connect(good_db) as connection:
        (root,) = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'kev'")
    connection.close()
    data = bytearray(good_db.read_bytes())
    page_size = struct.unpack_from(">H", data, 16)[0]
    data[(root[0] - 1) * page_size] = 0x07  # not a page type: opening does not read it
    hostile = tmp_path / "bundle.db"
    hostile.write_bytes(bytes(data))
    with AdvisoryStore.open(hostile) as store, pytest.raises(StoreError, match="malformed"):
        store.quick_check()
    with pytest.raises(InputError, match=r"^bundle .*bundle\.db is corrupt"):
        import_paths(tmp_path / "new.db", [hostile])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 8192) | st.integers(min_value=0), st.binary(min_size=1, max_size=8)
        ),
        max_size=6,
    )
)
def test_any_damage_is_a_store_error_or_nothing(
    good_db: Path, tmp_path: Path, damage: list[tuple[int, bytes]]
) -> None:
    content = bytearray(good_db.read_bytes())
    for offset, data in damage:
        at = offset % len(content)
        content[at : at + len(data)] = data
    hostile = tmp_path / "damaged.db"
    hostile.write_bytes(bytes(content[: len(good_db.read_bytes())]))
    with contextlib.suppress(StoreError), AdvisoryStore.open(hostile) as store:
        store.verify()
        store.status()
        store.quick_check()
        for advisory_id in ("GHSA-0", "GHSA-7", "nope"):
            with contextlib.suppress(KeyError):
                store.advisory(advisory_id)
