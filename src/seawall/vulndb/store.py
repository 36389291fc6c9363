"""The advisory store: one SQLite file, read-only for scanners, replaced whole by updates.

Tables: ``advisories`` (id -> compressed Advisory, the source ecosystem, the CVE ids used for
enrichment, a CRC), ``packages`` ((ecosystem base, release, normalised name) -> compressed
list of (advisory id, Affected), a CRC), ``kev`` and ``epss`` (enrichment by CVE id),
``sources`` (what was imported or downloaded, with ETag/Last-Modified) and ``meta`` (format,
build time, row counts). Scanners open it with ``mode=ro&immutable=1``: the file is never
changed in place (see :mod:`seawall.vulndb.writer`), so SQLite needs no locks or journal.
"""

from __future__ import annotations

import calendar
import functools
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from seawall.errors import EnvironmentFailure
from seawall.model import Advisory, Affected
from seawall.safety.jsondoc import JsonError, parse_json
from seawall.vulndb.codec import ChecksumError, Codec, crc
from seawall.vulndb.dbcheck import DB_ERRORS, DatabaseRefused, open_database, quick_check
from seawall.vulndb.keys import normalise_package

FORMAT = "1"
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (
    name TEXT PRIMARY KEY, kind TEXT NOT NULL, location TEXT NOT NULL,
    etag TEXT NOT NULL DEFAULT '', last_modified TEXT NOT NULL DEFAULT '',
    fetched_at TEXT NOT NULL, records INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE advisories (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, cves TEXT NOT NULL,
    crc INTEGER NOT NULL, data BLOB NOT NULL
);
CREATE TABLE packages (
    ecosystem TEXT NOT NULL, release TEXT NOT NULL, name TEXT NOT NULL,
    crc INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (ecosystem, release, name)
);
CREATE TABLE dictionary (data BLOB NOT NULL);
CREATE TABLE kev (cve TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE epss (cve TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL NOT NULL)
    WITHOUT ROWID;
"""
CACHE_SIZE = 4096
Types = tuple[type | tuple[type, ...], ...]  # the Python type of each column of a row
_HINT = "run `seawall db update` (or `seawall db import`) to rebuild it"


class StoreError(EnvironmentFailure):
    """The advisory database is missing, corrupt or of an unknown format."""


class CorruptDatabaseError(StoreError):
    """A file is where the advisory database should be, but not one Seawall can trust: bad
    input (exit 2), like any hostile file, while a missing database is the environment's
    (exit 3: run ``db update``)."""

    exit_code = 2


def default_db_path() -> Path:
    """``$SEAWALL_DB``, else ``~/.cache/seawall/db/advisories.db``."""
    env = os.environ.get("SEAWALL_DB")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "seawall" / "db" / "advisories.db"


class SourceInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Where some of the data came from, and when."""

    name: str  # "osv:Debian", "import:all.zip", "kev", "epss"
    kind: str  # "osv", "import", "kev", "epss"
    location: str  # URL or path
    etag: str = ""
    last_modified: str = ""
    fetched_at: str = ""  # ISO 8601 UTC
    records: int = 0


class EcosystemCount(msgspec.Struct, frozen=True):
    advisories: int
    packages: int


class StoreStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What ``seawall db status`` shows."""

    path: str
    size: int
    built_at: str
    age_seconds: int
    advisories: int
    packages: int
    kev: int
    epss: int
    ecosystems: dict[str, EcosystemCount]
    sources: tuple[SourceInfo, ...]


def corrupt(path: Path, detail: str) -> StoreError:
    return CorruptDatabaseError(
        f"advisory database {path} is corrupt or unreadable: {detail}", hint=_HINT
    )


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _contents(path: Path, connection: sqlite3.Connection) -> tuple[dict[str, str], bytes]:
    """The meta table and the compression dictionary, checked against each other and the
    row counts; StoreError when they disagree."""
    try:
        meta = {str(k): str(v) for k, v in connection.execute("SELECT key, value FROM meta")}
        if meta.get("format") != FORMAT:
            raise corrupt(path, f"unknown format {meta.get('format', '')[:40]!r}")
        for table in ("advisories", "packages"):
            (count,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
            recorded = meta.get(f"count.{table}")
            if str(count) != recorded:
                raise corrupt(path, f"{table}: {count} rows, the meta table says {recorded}")
        row = connection.execute("SELECT data FROM dictionary").fetchone()
        if row is None or not isinstance(row[0], bytes):
            raise corrupt(path, "no compression dictionary")
        if str(crc(row[0])) != meta.get("crc.dictionary"):
            raise corrupt(path, "the compression dictionary fails its checksum")
    except DB_ERRORS as exc:
        raise corrupt(path, str(exc)) from None
    return meta, row[0]


class AdvisoryStore:
    """Read access to one store file. Lookups are cached; every row's CRC is checked."""

    def __init__(
        self, path: Path, connection: sqlite3.Connection, meta: dict[str, str], dictionary: bytes
    ) -> None:
        self.path = path
        self._db = connection
        self._meta = meta
        self.dictionary = dictionary
        self._codec = Codec(dictionary)
        self.affected = functools.lru_cache(maxsize=CACHE_SIZE)(self._affected)
        self.advisory = functools.lru_cache(maxsize=CACHE_SIZE)(self._advisory)

    @classmethod
    def open(cls, path: Path | str | None = None) -> AdvisoryStore:
        """Open ``path`` (default: :func:`default_db_path`) read-only; StoreError if unusable."""
        path = Path(path) if path is not None else default_db_path()
        if not path.exists():
            raise StoreError(
                f"no advisory database at {path}",
                hint="run `seawall db update`, or `seawall db import` on an air-gapped host",
            )
        try:
            connection = open_database(path, SCHEMA)
        except DatabaseRefused as exc:
            raise corrupt(path, str(exc)) from None
        try:
            meta, dictionary = _contents(path, connection)
        except BaseException:
            connection.close()
            raise
        return cls(path, connection, meta, bytes(dictionary))

    def close(self) -> None:
        self._db.close()

    def quick_check(self) -> None:
        """Check every page of the file (a bundle, before it is copied); StoreError if bad."""
        try:
            quick_check(self._db)
        except DatabaseRefused as exc:
            raise corrupt(self.path, str(exc)) from None

    def __enter__(self) -> AdvisoryStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _typed(self, row: tuple[Any, ...], types: Types) -> tuple[Any, ...]:
        """``row`` if each value has its column's type (SQLite stores any type anywhere)."""
        if not all(isinstance(value, kind) for value, kind in zip(row, types, strict=True)):
            raise corrupt(self.path, f"a value of the wrong type in {str(row)[:80]}")
        return row

    def _query(self, sql: str, args: tuple[object, ...], types: Types) -> list[tuple[Any, ...]]:
        """Every row of ``sql``, each checked against ``types``."""
        try:
            return [self._typed(row, types) for row in self._db.execute(sql, args)]
        except DB_ERRORS as exc:
            raise corrupt(self.path, str(exc)) from None

    def _affected(self, ecosystem: str, release: str, package: str) -> list[tuple[str, Affected]]:
        """(advisory id, entry) for every advisory naming ``package`` in that release."""
        name = normalise_package(ecosystem, package)
        rows = self._query(
            "SELECT crc, data FROM packages WHERE ecosystem=? AND release=? AND name=?",
            (ecosystem, release, name),
            (int, bytes),
        )
        if not rows:
            return []
        checksum, blob = rows[0]
        return self.decode_entries(f"{ecosystem}/{release}/{name}", checksum, blob)

    def _advisory(self, advisory_id: str) -> Advisory:
        """The advisory, with ``known_exploited`` and ``epss`` from the enrichment tables."""
        rows = self._query(
            "SELECT cves, crc, data FROM advisories WHERE id=?", (advisory_id,), (str, int, bytes)
        )
        if not rows:
            raise KeyError(advisory_id)
        cves, checksum, blob = rows[0]
        advisory = self.decode(advisory_id, checksum, blob)
        ids = cves.split()
        if not ids:
            return advisory
        marks = ",".join("?" * len(ids))
        kev = self._query(f"SELECT 1 FROM kev WHERE cve IN ({marks}) LIMIT 1", tuple(ids), (int,))  # noqa: S608
        epss = self._query(
            f"SELECT max(score) FROM epss WHERE cve IN ({marks})",  # noqa: S608
            tuple(ids),
            ((int, float, type(None)),),
        )
        score = epss[0][0] if epss else None
        if not kev and score is None:
            return advisory
        return msgspec.structs.replace(
            advisory, known_exploited=bool(kev), epss=float(score) if score is not None else None
        )

    def _stream(self, sql: str, types: Types) -> Iterator[tuple[Any, ...]]:
        """The rows of ``sql`` one by one, each checked against ``types``."""
        try:
            for row in self._db.execute(sql):
                yield self._typed(row, types)
        except DB_ERRORS as exc:
            raise corrupt(self.path, str(exc)) from None

    def rows(self) -> Iterator[tuple[str, str, str, int, bytes]]:
        """Every advisory row (id, source, cves, crc, data), streamed, CRC checked."""
        for advisory_id, source, cves, checksum, blob in self._stream(
            "SELECT id, source, cves, crc, data FROM advisories", (str, str, str, int, bytes)
        ):
            if crc(blob) != checksum:
                raise corrupt(self.path, f"advisory {advisory_id}: checksum mismatch")
            yield advisory_id, source, cves, checksum, blob

    def package_rows(self) -> Iterator[tuple[str, str, str, int, bytes]]:
        """Every package row (ecosystem, release, name, crc, data), streamed, CRC checked."""
        for eco, release, name, checksum, blob in self._stream(
            "SELECT ecosystem, release, name, crc, data FROM packages", (str, str, str, int, bytes)
        ):
            if crc(blob) != checksum:
                raise corrupt(self.path, f"package {eco}/{release}/{name}: checksum mismatch")
            yield eco, release, name, checksum, blob

    def package_contents(self) -> Iterator[tuple[str, str, str, int]]:
        """(ecosystem, release, name, CRC of the row's content) of every package row: the
        CRC of the msgpack, not of the compressed bytes, so it is the same in two stores
        whose zstd dictionaries differ."""
        for eco, release, name, checksum, blob in self.package_rows():
            yield (
                eco,
                release,
                name,
                crc(self._raw(f"package {eco}/{release}/{name}", checksum, blob)),
            )

    def advisory_contents(self) -> Iterator[tuple[str, str, int]]:
        """(id, CVE ids, CRC of the content) of every advisory row (see
        :meth:`package_contents`)."""
        for advisory_id, _, cves, checksum, blob in self.rows():
            yield advisory_id, cves, crc(self._raw(f"advisory {advisory_id}", checksum, blob))

    def advisory_ids(self) -> Iterator[str]:
        """The id of every advisory, streamed."""
        for (advisory_id,) in self._stream("SELECT id FROM advisories", (str,)):
            yield advisory_id

    def _raw(self, what: str, checksum: int, blob: bytes) -> bytes:
        try:
            return self._codec.unpack(checksum, blob)
        except ChecksumError as exc:
            raise corrupt(self.path, f"{what}: {exc}") from None

    def raw_advisory(self, advisory_id: str) -> Advisory | None:
        """The advisory as stored (no enrichment, not cached); None if absent."""
        rows = self._query(
            "SELECT crc, data FROM advisories WHERE id=?", (advisory_id,), (int, bytes)
        )
        return self.decode(advisory_id, *rows[0]) if rows else None

    def decode_entries(self, key: str, checksum: int, blob: bytes) -> list[tuple[str, Affected]]:
        """Decode one row from :meth:`package_rows`; StoreError if it fails its checksum."""
        try:
            return self._codec.decode_entries(checksum, blob)
        except ChecksumError as exc:
            raise corrupt(self.path, f"package {key}: {exc}") from None

    def decode(self, advisory_id: str, checksum: int, blob: bytes) -> Advisory:
        """Decode one row from :meth:`rows`; StoreError if it fails its checksum."""
        try:
            return self._codec.decode_advisory(checksum, blob)
        except ChecksumError as exc:
            raise corrupt(self.path, f"advisory {advisory_id}: {exc}") from None

    def enrichment(self) -> tuple[list[str], list[tuple[str, float, float]]]:
        """The KEV CVE ids and the EPSS rows, for carrying into a new store."""
        kev = [r[0] for r in self._query("SELECT cve FROM kev", (), (str,))]
        number = (int, float)
        rows = self._query("SELECT cve, score, percentile FROM epss", (), (str, number, number))
        return kev, [(c, float(s), float(p)) for c, s, p in rows]

    def sources(self) -> tuple[SourceInfo, ...]:
        rows = self._query(
            "SELECT name, kind, location, etag, last_modified, fetched_at, records FROM sources"
            " ORDER BY name",
            (),
            (str, str, str, str, str, str, int),
        )
        return tuple(
            SourceInfo(
                name=n, kind=k, location=loc, etag=e, last_modified=lm, fetched_at=f, records=r
            )
            for n, k, loc, e, lm, f, r in rows
        )

    def status(self) -> StoreStatus:
        """Age, counts per ecosystem, sources."""
        built_at = self._meta.get("built_at", "")
        try:
            built = calendar.timegm(time.strptime(built_at, "%Y-%m-%dT%H:%M:%SZ"))
            age = max(0, int(time.time() - built))
        except ValueError:
            age = -1
        try:
            counts = parse_json(
                self._meta.get("ecosystems", "{}").encode(), dict[str, tuple[int, int]]
            )
            totals = [int(self._meta.get(f"count.{n}", 0)) for n in ("kev", "epss")]
        except (JsonError, ValueError) as exc:
            raise corrupt(self.path, f"meta table: {exc}") from None
        return StoreStatus(
            path=str(self.path),
            size=self.path.stat().st_size,
            built_at=built_at,
            age_seconds=age,
            advisories=int(self._meta.get("count.advisories", 0)),
            packages=int(self._meta.get("count.packages", 0)),
            kev=totals[0],
            epss=totals[1],
            ecosystems={k: EcosystemCount(*v) for k, v in sorted(counts.items())},
            sources=self.sources(),
        )

    def describe(self) -> dict[str, str]:
        """What a scan report says about the database it was matched against."""
        return {
            "path": str(self.path),
            "built_at": self._meta.get("built_at", ""),
            "advisories": self._meta.get("count.advisories", "0"),
            "sources": ", ".join(s.name for s in self.sources()),
        }

    def verify(self) -> int:
        """Check every row's checksum; return the rows checked; StoreError on the first bad."""
        checked = 0
        for advisory_id, _, _, checksum, blob in self.rows():
            self.decode(advisory_id, checksum, blob)
            checked += 1
        for eco, release, name, checksum, blob in self.package_rows():
            self.decode_entries(f"{eco}/{release}/{name}", checksum, blob)
            checked += 1
        return checked
