"""A small real advisory database for the demo image (``examples/demo-image.tar.gz``):
OSV records written to a directory and imported with the same code as ``seawall db
import``, so tests match against a real store rather than a stand-in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seawall.vulndb.importer import import_paths

DEMO_IMAGE = Path(__file__).resolve().parents[2] / "examples" / "demo-image.tar.gz"


def _record(record_id: str, ecosystem: str, package: str, fixed: str, **extra: Any) -> dict:
    return {
        "id": record_id,
        "modified": "2026-01-01T00:00:00Z",
        "published": "2025-06-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": package},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
        **extra,
    }


# Each hits one package of the demo image: requests 2.32.3, ms 2.1.3, bash 5.2.15-2 (source),
# glibc 2.36-9+deb12u14 (source of libc6); the last one is not fixed yet.
DEMO_RECORDS = [
    _record(
        "GHSA-9wx4-h78v-vm56",
        "PyPI",
        "requests",
        "2.32.4",
        aliases=["CVE-2024-47081"],
        summary="Requests leaks credentials to third parties via .netrc",
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N"}],
    ),
    _record(
        "GHSA-0000-demo-ms00",
        "npm",
        "ms",
        "2.1.4",
        aliases=["CVE-2026-0001"],
        summary="ms: regular expression denial of service",
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
    ),
    _record(
        "DSA-9001-1",
        "Debian:12",
        "bash",
        "5.2.15-2+deb12u1",
        aliases=["CVE-2026-0002"],
        summary="bash: command injection",
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    ),
    {
        "id": "DEBIAN-CVE-2026-0003",
        "modified": "2026-01-01T00:00:00Z",
        "aliases": ["CVE-2026-0003"],
        "summary": "glibc: stack overflow in getaddrinfo",
        "affected": [
            {
                "package": {"ecosystem": "Debian:12", "name": "glibc"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                "ecosystem_specific": {"urgency": "low"},
            }
        ],
    },
]


def demo_database(directory: Path, records: list[dict] | None = None) -> Path:
    """``directory/advisories.db`` holding ``records`` (default: :data:`DEMO_RECORDS`)."""
    source = directory / "osv"
    source.mkdir(parents=True, exist_ok=True)
    for record in records if records is not None else DEMO_RECORDS:
        (source / f"{record['id']}.json").write_text(json.dumps(record))
    target = directory / "advisories.db"
    import_paths(target, [source])
    return target
