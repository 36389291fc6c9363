"""Build a new store file beside the old one and swap it in atomically.

The new file is written under a temporary name in the target's directory (the same file
system, so :func:`os.replace` is atomic), fsynced, then renamed over the target. A crash, a
kill or an exception before the rename leaves the old file untouched and working; the
half-written file is removed (or, after a kill, by the next build, under the update lock).
Per-package entry lists are gathered in a scratch SQLite file in a private temp directory
and grouped once at the end, so memory stays flat however many records come in.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import sqlite3
import tempfile
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from urllib.parse import quote

import msgspec

from seawall.errors import EnvironmentFailure
from seawall.model import Advisory
from seawall.safety.files import refuse_replacing
from seawall.vulndb.codec import Codec, crc, encode_affected, raw_advisory, train
from seawall.vulndb.keys import package_key, split_ecosystem
from seawall.vulndb.store import FORMAT, SCHEMA, AdvisoryStore, SourceInfo, now_iso

_BATCH = 5000


def _source_of(advisory: Advisory) -> str:
    """The ecosystem an advisory is filed under: its first affected entry's base name."""
    return split_ecosystem(advisory.affected[0].ecosystem)[0] if advisory.affected else ""


@contextlib.contextmanager
def update_lock(target: Path) -> Iterator[None]:
    """One writer at a time per store (an flock on ``<target>.lock``); stale temp files of
    killed builds are removed once the lock is held."""
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.with_name(target.name + ".lock")
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EnvironmentFailure(
                f"another process is updating {target}", hint="wait for it to finish"
            ) from None
        for stale in target.parent.glob(f".{target.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        yield


class StoreBuilder:
    """Collects advisories (later ones replace earlier ones with the same id) into a new
    store file; :meth:`commit` swaps it in, leaving the context without commit discards it."""

    def __init__(self, target: Path, dictionary: bytes | None = None) -> None:
        self.target = target
        self.temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        self._scratch_dir = tempfile.TemporaryDirectory(prefix="seawall-db-")
        self._db = sqlite3.connect(self.temp)
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=8192;" + SCHEMA
        )
        self._db.execute("ATTACH DATABASE ? AS work", (str(Path(self._scratch_dir.name, "w")),))
        self._db.executescript(
            "PRAGMA work.journal_mode=OFF; PRAGMA work.synchronous=OFF;"
            "CREATE TABLE work.entries (ecosystem TEXT, release TEXT, name TEXT, id TEXT,"
            " gen INTEGER, data BLOB)"
        )
        # The zstd dictionary: given (the old store's, so its rows are copied as they are),
        # or trained on the first batch of advisories when None.
        self._codec = Codec(dictionary) if dictionary is not None else None
        self._pending: list[tuple[Advisory, str, str, tuple[int, bytes] | None]] = []
        self._latest: dict[str, int] = {}  # advisory id -> generation of its current version
        self._gen = 0
        self._entry_rows: list[tuple[str, str, str, str, int, msgspec.Raw]] = []
        self._sources: dict[str, SourceInfo] = {}
        self._kev: set[str] = set()
        self._epss: dict[str, tuple[float, float]] = {}
        self.added = 0
        self.count = 0  # advisories in the committed store
        # The old store whose rows are carried over as they are (see keep_from), the ids
        # taken from it, and the package keys whose rows must be rebuilt.
        self._base: AdvisoryStore | None = None
        self._base_ids: set[str] = set()
        self._touched: set[tuple[str, str, str]] = set()

    def __enter__(self) -> StoreBuilder:
        return self

    def __exit__(self, *_: object) -> None:
        self.discard()

    @property
    def dictionary(self) -> bytes | None:
        """The zstd dictionary rows are written with; None until decided."""
        return self._codec.dictionary if self._codec is not None else None

    def add(
        self,
        advisory: Advisory,
        cves: Iterable[str],
        *,
        encoded: tuple[int, bytes] | None = None,
        source: str | None = None,
    ) -> None:
        """Add (or replace) an advisory; ``encoded`` reuses a blob compressed with
        :attr:`dictionary` as it is."""
        self._gen += 1
        self._latest[advisory.id] = self._gen
        self._pending.append(
            (
                advisory,
                _source_of(advisory) if source is None else source,
                " ".join(cves),
                encoded,
            )
        )
        for entry in advisory.affected:
            base, release, name = package_key(entry.ecosystem, entry.package)
            self._entry_rows.append(
                (base, release, name, advisory.id, self._gen, encode_affected(entry))
            )
        self.added += 1
        if len(self._pending) >= _BATCH:
            self._flush()

    def withdraw(self, advisory_id: str) -> None:
        """Drop an advisory added earlier (a withdrawn record replaces it)."""
        if advisory_id in self._latest:
            self._flush()
            self._latest[advisory_id] = -1
            self._db.execute("DELETE FROM advisories WHERE id=?", (advisory_id,))

    def can_keep_from(self, old: AdvisoryStore) -> bool:
        """True if ``old``'s rows can be carried over as they are: same dictionary, and
        nothing added yet (the base comes first, later additions replace it)."""
        return (
            self._base is None
            and self.added == 0
            and bool(old.dictionary)
            and self.dictionary == old.dictionary
        )

    def keep_from(self, old: AdvisoryStore, replaced: Collection[str]) -> int:
        """Carry over the advisories of ``old`` not filed under ``replaced``, without
        decompressing them; at commit its package rows are copied too, except those naming
        an advisory that was dropped, replaced or added, which are rebuilt. Return the number
        of advisories kept. ``old`` must stay open until :meth:`commit`."""
        assert self.can_keep_from(old)
        self._base = old
        batch: list[tuple[str, str, str, int, bytes]] = []
        for row in old.rows():
            advisory_id, source, _, checksum, blob = row
            if source in replaced:
                self._touch(old.decode(advisory_id, checksum, blob))
                continue
            self._latest[advisory_id] = 0
            self._base_ids.add(advisory_id)
            batch.append(row)
            if len(batch) >= _BATCH:
                self._db.executemany("INSERT INTO advisories VALUES (?,?,?,?,?)", batch)
                batch.clear()
        self._db.executemany("INSERT INTO advisories VALUES (?,?,?,?,?)", batch)
        return len(self._base_ids)

    def _touch(self, advisory: Advisory) -> None:
        for entry in advisory.affected:
            self._touched.add(package_key(entry.ecosystem, entry.package))

    def _merge_base(self) -> None:
        """Copy the base's package rows that nothing changed; put the still-valid entries of
        the others into the scratch table, to be regrouped with the new ones."""
        old = self._base
        if old is None:
            return
        for advisory_id in self._base_ids:
            if self._latest.get(advisory_id) != 0:  # replaced or withdrawn since
                previous = old.raw_advisory(advisory_id)
                if previous is not None:
                    self._touch(previous)
        self._touched.update(
            self._db.execute("SELECT DISTINCT ecosystem, release, name FROM work.entries")
        )
        copied: list[tuple[str, str, str, int, bytes]] = []
        for row in old.package_rows():
            key = row[:3]
            if key not in self._touched:
                copied.append(row)
                if len(copied) >= _BATCH:
                    self._db.executemany("INSERT INTO packages VALUES (?,?,?,?,?)", copied)
                    copied.clear()
                continue
            self._db.executemany(
                "INSERT INTO work.entries VALUES (?,?,?,?,0,?)",
                (
                    (*key, advisory_id, bytes(encode_affected(entry)))
                    for advisory_id, entry in old.decode_entries("/".join(key), *row[3:])
                    if self._latest.get(advisory_id) == 0
                ),
            )
        self._db.executemany("INSERT INTO packages VALUES (?,?,?,?,?)", copied)

    def source(self, info: SourceInfo) -> None:
        self._sources[info.name] = info

    def kev(self, cves: Iterable[str], *, replace: bool = False) -> None:
        """Add KEV CVE ids; ``replace``: a new catalog supersedes the old one."""
        if replace:
            self._kev.clear()
        self._kev.update(cves)

    def epss(self, rows: Iterable[tuple[str, float, float]], *, replace: bool = False) -> None:
        """Add EPSS scores; ``replace``: a new day's file supersedes the old one."""
        if replace:
            self._epss.clear()
        self._epss.update((cve, (score, pct)) for cve, score, pct in rows)

    def _ready_codec(self) -> Codec:
        if self._codec is None:
            self._codec = Codec(train([raw_advisory(a) for a, _, _, _ in self._pending]))
        return self._codec

    def _flush(self) -> None:
        codec = self._ready_codec()
        self._db.executemany(
            "INSERT OR REPLACE INTO advisories VALUES (?,?,?,?,?)",
            (
                (a.id, source, cves, *(encoded or codec.encode_advisory(a)))
                for a, source, cves, encoded in self._pending
            ),
        )
        self._db.executemany(
            "INSERT INTO work.entries VALUES (?,?,?,?,?,?)",
            ((b, r, n, i, g, bytes(d)) for b, r, n, i, g, d in self._entry_rows),
        )
        self._pending.clear()
        self._entry_rows.clear()

    def _group_packages(self) -> None:
        """Write one ``packages`` row per key gathered in the scratch table."""
        codec = self._ready_codec()
        rows: list[tuple[str, str, str, int, bytes]] = []
        key: tuple[str, str, str] | None = None
        group: list[tuple[str, msgspec.Raw]] = []

        def emit() -> None:
            if key is not None and group:
                rows.append((*key, *codec.encode_entries(group)))
            if len(rows) >= _BATCH:
                self._db.executemany("INSERT INTO packages VALUES (?,?,?,?,?)", rows)
                rows.clear()

        cursor = self._db.execute(
            "SELECT ecosystem, release, name, id, gen, data FROM work.entries"
            " ORDER BY ecosystem, release, name, id"
        )
        for base, release, name, advisory_id, gen, data in cursor:
            if (base, release, name) != key:
                emit()
                key, group = (base, release, name), []
            if self._latest.get(advisory_id) == gen:
                group.append((advisory_id, msgspec.Raw(data)))
        emit()
        self._db.executemany("INSERT INTO packages VALUES (?,?,?,?,?)", rows)

    def _counts(self) -> dict[str, list[int]]:
        """(advisories filed under, package keys of) each ecosystem base name."""
        counts: dict[str, list[int]] = {}
        for source, n in self._db.execute("SELECT source, count(*) FROM advisories GROUP BY 1"):
            counts.setdefault(source, [0, 0])[0] = n
        for base, n in self._db.execute("SELECT ecosystem, count(*) FROM packages GROUP BY 1"):
            counts.setdefault(base, [0, 0])[1] = n
        return counts

    def commit(self) -> None:
        """Finish the file, fsync it and atomically replace the target with it."""
        self._flush()
        self._merge_base()
        self._group_packages()
        counts = self._counts()
        codec = self._ready_codec()
        self._db.execute("INSERT INTO dictionary VALUES (?)", (codec.dictionary,))
        self._db.executemany("INSERT INTO kev VALUES (?)", ((c,) for c in sorted(self._kev)))
        self._db.executemany(
            "INSERT INTO epss VALUES (?,?,?)", ((c, s, p) for c, (s, p) in self._epss.items())
        )
        self._db.executemany(
            "INSERT INTO sources VALUES (?,?,?,?,?,?,?)",
            (
                (s.name, s.kind, s.location, s.etag, s.last_modified, s.fetched_at, s.records)
                for s in self._sources.values()
            ),
        )
        (advisories,) = self._db.execute("SELECT count(*) FROM advisories").fetchone()
        self.count = int(advisories)
        (packages,) = self._db.execute("SELECT count(*) FROM packages").fetchone()
        meta = {
            "format": FORMAT,
            "built_at": now_iso(),
            "count.advisories": str(advisories),
            "count.packages": str(packages),
            "count.kev": str(len(self._kev)),
            "count.epss": str(len(self._epss)),
            "crc.dictionary": str(crc(codec.dictionary)),
            "ecosystems": json.dumps(counts, sort_keys=True),
        }
        self._db.executemany("INSERT INTO meta VALUES (?,?)", meta.items())
        self._db.commit()
        self._db.execute("DETACH DATABASE work")
        self._db.close()
        with self.temp.open("rb+") as handle:
            os.fsync(handle.fileno())
        self.temp.replace(self.target)  # atomic: same directory, same file system
        directory = os.open(self.target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self._scratch_dir.cleanup()

    def discard(self) -> None:
        """Drop the half-built file (no effect after :meth:`commit`)."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self.temp.unlink(missing_ok=True)
        self._scratch_dir.cleanup()


def export_bundle(store: Path, dest: Path) -> None:
    """Write a compact copy of ``store`` to ``dest`` (via a temp name, then renamed): the
    single file ``seawall db import`` takes on an offline site."""
    refuse_replacing(dest)
    with AdvisoryStore.open(store) as opened:
        opened.verify()  # never carry a corrupt store to a site that cannot re-download
    temp = dest.with_name(f".{dest.name}.{secrets.token_hex(6)}.tmp")
    try:
        source = sqlite3.connect(f"file:{quote(str(store.resolve()))}?mode=ro", uri=True)
        try:
            source.execute("VACUUM INTO ?", (str(temp),))
        finally:
            source.close()
        temp.replace(dest)
    except sqlite3.Error as exc:
        raise EnvironmentFailure(f"cannot write {dest}: {exc}") from None
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write {dest}: {exc.strerror}") from None
    finally:
        temp.unlink(missing_ok=True)
