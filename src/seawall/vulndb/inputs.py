"""What ``seawall db import`` and ``update`` read: OSV zips, directories, bundles, KEV, EPSS.

Every input is untrusted and bounded: a zip's member count, each member's size and compression
ratio (read with a cap, never trusting the declared size), the total bytes inflated. Nothing is
extracted to disk, so a member name cannot escape anywhere; names that try (absolute, ``..``)
are reported and skipped all the same. Directories are walked without following symlinks.
Only regular files are opened (:mod:`seawall.safety.files`): a FIFO or a device named on the
command line is refused in one line, one found in a directory is reported and skipped.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import msgspec

from seawall.errors import InputError, UnsafeInputError
from seawall.safety.files import open_regular, read_regular
from seawall.vulndb.osv import max_record_bytes

MAX_MEMBERS = 2_000_000
MAX_TOTAL_BYTES = 16 * 1024**3
MAX_RATIO = 200  # inflated/deflated, checked for members above RATIO_FLOOR bytes
RATIO_FLOOR = 1024 * 1024
_RECORD_SUFFIXES = (".json", ".yaml", ".yml")
SQLITE_MAGIC = b"SQLite format 3\x00"
KEV_NAME = "known_exploited_vulnerabilities.json"


class Record(msgspec.Struct, frozen=True):
    """One record's bytes; ``name`` says where it came from (and JSON or YAML)."""

    name: str
    data: bytes


class Skipped(msgspec.Struct, frozen=True):
    """A member or file that could not be read safely, with the reason."""

    name: str
    reason: str


class Special(msgspec.Struct, frozen=True):
    """A file that is not an OSV record: a Seawall bundle, a KEV catalog or EPSS scores."""

    kind: str  # "bundle", "kev", "epss"
    path: Path


Item = Record | Skipped | Special


def classify(path: Path) -> str:
    """``zip``, ``bundle``, ``kev``, ``epss``, ``record`` or ``""`` (ignored), by name and magic."""
    name = path.name.lower()
    try:
        with open_regular(path) as handle:
            head = handle.read(16)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return "bundle"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if name == KEV_NAME:
        return "kev"
    if name.startswith("epss") and name.endswith((".csv", ".csv.gz")):
        return "epss"
    if name.endswith(_RECORD_SUFFIXES):
        return "record"
    return ""


def iter_path(path: Path) -> Iterator[Item]:
    """Every item of a file or directory given to ``db import``."""
    if path.is_symlink() and path.is_dir():
        raise InputError(f"{path}: a symlink to a directory is not followed")
    if path.is_dir():
        yield from _iter_dir(path)
        return
    kind = classify(path)
    if not kind:  # named on purpose, so not skipped quietly as in a directory
        raise InputError(
            f"{path}: not an OSV record (.json, .yaml), an OSV zip, a Seawall bundle, "
            "a KEV catalog or an EPSS file"
        )
    yield from _iter_file(path, path.name, kind)


def _iter_file(path: Path, label: str, kind: str) -> Iterator[Item]:
    if kind == "zip":
        yield from iter_zip(path)
    elif kind in ("bundle", "kev", "epss"):
        yield Special(kind, path)
    elif kind == "record":
        try:
            yield Record(label, read_regular(path, max_record_bytes()))
        except UnsafeInputError as exc:
            yield Skipped(label, exc.message.removeprefix(f"{path}: "))


def _iter_dir(root: Path) -> Iterator[Item]:
    for top, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(top, name)
            if path.is_symlink():
                continue  # never follow a link out of the tree
            label = str(path.relative_to(root))
            try:
                kind = classify(path)
            except InputError as exc:  # a FIFO, a device, unreadable: this file only
                yield Skipped(label, exc.message.removeprefix(f"{path}: "))
                continue
            yield from _iter_file(path, label, kind)


def _unsafe_name(name: str) -> bool:
    """Absolute, drive-qualified or with a ``..`` part (either slash)."""
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]


def iter_zip(path: Path) -> Iterator[Record | Skipped]:
    """Every record of an OSV zip, read with caps; UnsafeInputError for a hostile archive."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: not a readable zip archive ({exc})") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise UnsafeInputError(f"{path}: {len(members)} members (limit {MAX_MEMBERS})")
        total = 0
        limit = max_record_bytes()
        for info in members:
            name = info.filename
            if info.is_dir() or not name.lower().endswith(_RECORD_SUFFIXES):
                continue
            if _unsafe_name(name):
                yield Skipped(name, "unsafe member name")
                continue
            if info.file_size > limit:
                yield Skipped(name, f"{info.file_size} bytes (limit {limit})")
                continue
            try:
                with archive.open(info) as member:
                    data = member.read(limit + 1)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
                raise InputError(f"{path}: corrupt member {name} ({exc})") from None
            if len(data) > limit:
                yield Skipped(name, f"inflates past {limit} bytes")
                continue
            if len(data) > RATIO_FLOOR and len(data) > MAX_RATIO * max(info.compress_size, 1):
                yield Skipped(name, "compression ratio too high (zip bomb?)")
                continue
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise UnsafeInputError(f"{path}: inflates past {MAX_TOTAL_BYTES} bytes")
            yield Record(name, data)
