"""Enrichment files: CISA's Known Exploited Vulnerabilities catalog and FIRST's EPSS scores.

KEV is the JSON feed (``known_exploited_vulnerabilities.json``: ``vulnerabilities[].cveID``);
EPSS is the daily CSV (``cve,epss,percentile`` after a ``#model_version...`` comment line),
plain or gzip. Both are regular files bounded in size (EPSS read a line at a time); bad lines
are counted, not fatal.
"""

from __future__ import annotations

import contextlib
import gzip
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import msgspec

from seawall.errors import InputError
from seawall.safety.files import open_regular
from seawall.safety.jsondoc import decode_json
from seawall.safety.limits import max_bytes

MAX_LINE = 4096  # an EPSS row is about 40 bytes
_CVE = re.compile(r"CVE-\d{4}-\d{4,}")


class _KevEntry(msgspec.Struct):
    cveID: str  # the feed's spelling


class _Kev(msgspec.Struct):
    vulnerabilities: list[_KevEntry]


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[BinaryIO | gzip.GzipFile]:
    """The regular file ``path``, gunzipped if ``.gz``; InputError if it cannot be read."""
    try:
        with open_regular(path) as raw:
            yield gzip.GzipFile(fileobj=raw) if path.name.endswith(".gz") else raw
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None


def _read(path: Path, limit: int) -> bytes:
    """The file's bytes, at most ``limit``; InputError past it."""
    with _opened(path) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{path}: larger than {limit} bytes")
    return data


def _lines(path: Path, limit: int) -> Iterator[str]:
    """The file's lines, read one at a time (each at most :data:`MAX_LINE` bytes: a longer
    one comes in pieces, which do not parse), at most ``limit`` bytes in all."""
    total = 0
    with _opened(path) as stream:
        for line in iter(lambda: stream.readline(MAX_LINE), b""):
            total += len(line)
            if total > limit:
                raise InputError(f"{path}: larger than {limit} bytes")
            yield line.decode("utf-8", errors="replace")


def read_kev(path: Path) -> list[str]:
    """The CVE ids of a KEV catalog."""
    catalog = decode_json(_read(path, max_bytes("KEV")), f"{path}: not a KEV catalog", _Kev)
    return [e.cveID for e in catalog.vulnerabilities if _CVE.fullmatch(e.cveID)]


def read_epss(path: Path) -> tuple[list[tuple[str, float, float]], int]:
    """(rows (cve, epss, percentile), lines skipped) of an EPSS CSV."""
    rows: list[tuple[str, float, float]] = []
    skipped = 0
    header_seen = False
    for line in _lines(path, max_bytes("EPSS")):
        line = line.rstrip("\r\n")
        if not line or line.startswith("#"):
            continue
        fields = line.strip().split(",")
        if not header_seen and fields[0].strip().lower() == "cve":
            header_seen = True
            continue
        try:
            cve, score, percentile = fields[0].strip(), float(fields[1]), float(fields[2])
        except (IndexError, ValueError):
            skipped += 1
            continue
        if not _CVE.fullmatch(cve) or not (0 <= score <= 1 and 0 <= percentile <= 1):
            skipped += 1
            continue
        rows.append((cve, score, percentile))
    if not header_seen:
        raise InputError(f"{path}: not an EPSS file (no cve,epss,percentile header)")
    return rows, skipped
