"""Hostile package databases and file trees inside an image: each is read in bounded time
and memory (under :func:`~tests.support.limits.run_limited`), never a hang or a traceback.

A hostile file analysers cannot read becomes a warning in the inventory (one bad file does
not hide the rest of the image); a refusal of the whole input is one line and exit 2.
"""

from __future__ import annotations

import json
import sqlite3
import struct
import time
from pathlib import Path

import pytest

from seawall.inventory.analyzers._rpmheader import TAG_BASENAMES, parse_header
from tests.support.imagebuild import Image, Layer, write_docker_archive
from tests.support.limits import run_limited
from tests.support.sample import OS_RELEASE

STRING_ARRAY = 8
STATUS = b"Package: p\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0\n\n"


def sbom_json(archive: Path, timeout: float = 60, memory_mb: int = 1024) -> dict[str, object]:
    """``seawall sbom -f json`` of ``archive`` within limits; the envelope's payload."""
    result = run_limited(
        "sbom", "--no-cache", "-f", "json", str(archive), timeout=timeout, memory_mb=memory_mb
    )
    assert result.returncode == 0, result.stderr[-2000:]
    document: dict[str, object] = json.loads(result.stdout)
    return document


def warnings_of(document: dict[str, object]) -> str:
    return json.dumps(document.get("payload", document))


def many_tags_header(tags: int = 0xFFFF, strings: int = 200_000) -> bytes:
    """A header whose every index entry is BASENAMES over the whole data store: decoding
    each one costs the whole store, so it was quadratic (55 minutes in rpm's worst case)."""
    store = b"\0" * strings
    index = struct.pack(">IIII", TAG_BASENAMES, STRING_ARRAY, 0, strings) * tags
    return struct.pack(">II", tags, len(store)) + index + store


def rpmdb_sqlite(path: Path, blobs: list[bytes]) -> bytes:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB)")
        conn.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
    conn.close()
    return path.read_bytes()


def test_rpm_header_repeating_a_tag_65535_times_is_refused_fast() -> None:
    start = time.monotonic()
    with pytest.raises(ValueError, match="more than once"):
        parse_header(many_tags_header())
    assert time.monotonic() - start < 1


def test_rpm_database_of_hostile_headers_scans_in_seconds(tmp_path: Path) -> None:
    database = rpmdb_sqlite(tmp_path / "rpmdb.sqlite", [many_tags_header()] * 3)
    image = Image([Layer({"etc/os-release": OS_RELEASE, "var/lib/rpm/rpmdb.sqlite": database})])
    start = time.monotonic()
    document = sbom_json(write_docker_archive(image, tmp_path / "rpm.tar"), timeout=60)
    assert time.monotonic() - start < 30
    assert "more than once" in warnings_of(document)


def test_deep_symlink_targets_resolve_in_linear_time(tmp_path: Path) -> None:
    """A link whose target has 40,000 components, and 2,000 packaged files reached through
    it: resolving each path used to rebuild the whole target (about 20 minutes)."""
    listing = "".join(f"/a/p{i}.dist-info/METADATA\n" for i in range(2000)).encode()
    files = {
        "etc/os-release": OS_RELEASE,
        "var/lib/dpkg/status": STATUS,
        "var/lib/dpkg/info/p.list": listing,
        "a": ("symlink", "d/" * 40_000),
        "loop1": ("symlink", "loop2/x"),
        "loop2": ("symlink", "loop1/y"),
        # a chain of 60 links, each back through the one before: 2,000 paths walk it
        **{f"c{i}": ("symlink", f"c{i - 1}/../c{i - 1}" if i else "usr") for i in range(60)},
        "var/lib/dpkg/info/q.list": "".join(
            f"/c59/q{i}.dist-info/METADATA\n" for i in range(2000)
        ).encode(),
    }
    image = Image([Layer(files)])
    start = time.monotonic()
    sbom_json(write_docker_archive(image, tmp_path / "links.tar"), timeout=60)
    assert time.monotonic() - start < 30


ZEROBLOB_VIEW = """
CREATE VIEW Packages AS
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8)
SELECT i AS hnum, zeroblob(400000000) AS blob FROM n
"""
GENERATED_COLUMN = """
CREATE TABLE Packages (
    hnum INTEGER PRIMARY KEY, seed INTEGER,
    blob BLOB GENERATED ALWAYS AS (zeroblob(400000000 + seed)) VIRTUAL
);
INSERT INTO Packages (seed) VALUES (1), (2), (3), (4), (5), (6), (7), (8);
"""


@pytest.mark.parametrize("schema", [ZEROBLOB_VIEW, GENERATED_COLUMN], ids=["view", "generated"])
def test_rpm_sqlite_computing_huge_blobs_stays_small(tmp_path: Path, schema: str) -> None:
    """A 20 KB database whose rows are computed gigabytes (3.5 GB before the check), read
    under a 1 GB address-space limit; nothing is left in the temporary directory."""
    path = tmp_path / "rpmdb.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(schema)
    conn.close()
    image = Image(
        [Layer({"etc/os-release": OS_RELEASE, "var/lib/rpm/rpmdb.sqlite": path.read_bytes()})]
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    archive = write_docker_archive(image, tmp_path / "rpm.tar")
    result = run_limited(
        "sbom", "--no-cache", "-f", "json", str(archive), env={"TMPDIR": str(temp)}, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "plain table" in result.stdout
    assert list(temp.iterdir()) == []


def test_dpkg_status_with_a_million_packages_is_bounded(tmp_path: Path) -> None:
    stanza = b"Package: p%d\nStatus: install ok installed\nVersion: 1\n\n"
    status = b"".join(stanza % i for i in range(1_000_000))
    image = Image([Layer({"etc/os-release": OS_RELEASE, "var/lib/dpkg/status": status})])
    start = time.monotonic()
    document = sbom_json(write_docker_archive(image, tmp_path / "dpkg.tar"), memory_mb=1024)
    assert time.monotonic() - start < 30
    assert "more than 30000 installed packages" in warnings_of(document)
