"""Enrichment files: CISA's Known Exploited Vulnerabilities catalog and FIRST's EPSS scores.

KEV is the JSON feed (``known_exploited_vulnerabilities.json``: ``vulnerabilities[].cveID``);
EPSS is the daily CSV (``cve,epss,percentile`` after a ``#model_version...`` comment line),
plain or gzip. Both are bounded in size; bad lines are counted, not fatal.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import msgspec

from seawall.errors import InputError
from seawall.safety.files import open_regular
from seawall.safety.jsondoc import decode_json
from seawall.safety.limits import max_bytes

_CVE = re.compile(r"CVE-\d{4}-\d{4,}")


class _KevEntry(msgspec.Struct):
    cveID: str  # the feed's spelling


class _Kev(msgspec.Struct):
    vulnerabilities: list[_KevEntry]


def _read(path: Path, limit: int) -> bytes:
    """The regular file's bytes (gunzipped if ``.gz``), at most ``limit``; InputError past
    it."""
    try:
        with (
            open_regular(path) as raw,
            gzip.GzipFile(fileobj=raw) if path.name.endswith(".gz") else raw as f,
        ):
            data = f.read(limit + 1)
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    if len(data) > limit:
        raise InputError(f"{path}: larger than {limit} bytes")
    return data


def read_kev(path: Path) -> list[str]:
    """The CVE ids of a KEV catalog."""
    catalog = decode_json(_read(path, max_bytes("KEV")), f"{path}: not a KEV catalog", _Kev)
    return [e.cveID for e in catalog.vulnerabilities if _CVE.fullmatch(e.cveID)]


def read_epss(path: Path) -> tuple[list[tuple[str, float, float]], int]:
    """(rows (cve, epss, percentile), lines skipped) of an EPSS CSV."""
    text = _read(path, max_bytes("EPSS")).decode("utf-8", errors="replace")
    rows: list[tuple[str, float, float]] = []
    skipped = 0
    header_seen = False
    for line in text.splitlines():
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
