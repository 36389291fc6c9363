"""Turn real advisory data that is not published as OSV here into OSV records for tests.

OSV's Debian, Alpine and npm archives cannot be downloaded on these machines, so the tests
build OSV records from the same facts in their upstream formats, shipped in ``../shared``:
Debian's DSA/DLA lists (fixed version per release), Alpine's secdb (fixed version per CVE)
and the Node.js security WG advisories (semver ranges). Each record carries the real ids,
packages and versions; only the envelope is OSV's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

DEBIAN_RELEASES = {"stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12"}
_DSA_HEADER = re.compile(r"^\[(?P<date>[^\]]+)\] (?P<id>D[SL]A-\d+-\d+) (?P<package>\S+)")
_DSA_FIX = re.compile(r"^\t\[(?P<release>\w+)\] - (?P<package>\S+) (?P<version>\S+)")


def debian_list_to_osv(path: Path) -> Iterator[dict[str, Any]]:
    """OSV records, one per CVE as OSV publishes Debian data (``DEBIAN-CVE-...``), from a
    Debian security tracker ``DSA/list`` or ``DLA/list`` file: every release's fixed version
    of the source package, and the DSA/DLA as a related id."""
    records: dict[str, dict[str, Any]] = {}
    advisory, cves = "", []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        header = _DSA_HEADER.match(line)
        if header:
            advisory, cves = header["id"], []
            continue
        if line.startswith("\t{"):
            cves = line.strip("\t{}").split()
            continue
        fix = _DSA_FIX.match(line)
        if not fix or fix["release"] not in DEBIAN_RELEASES or not cves:
            continue
        if not fix["version"][:1].isdigit():
            continue  # <not-affected>, <unfixed>, ...
        for cve in cves:
            record = records.setdefault(
                cve,
                {
                    "id": f"DEBIAN-{cve}",
                    "aliases": [cve],
                    "related": [],
                    "modified": "2023-04-01T00:00:00Z",
                    "affected": [],
                },
            )
            record["related"].append(advisory)
            record["affected"].append(
                {
                    "package": {
                        "ecosystem": f"Debian:{DEBIAN_RELEASES[fix['release']]}",
                        "name": fix["package"],
                    },
                    "ranges": [
                        {
                            "type": "ECOSYSTEM",
                            "events": [{"introduced": "0"}, {"fixed": fix["version"]}],
                        }
                    ],
                }
            )
    yield from records.values()


def alpine_secdb_to_osv(path: Path) -> Iterator[dict[str, Any]]:
    """OSV records (one per CVE and package) from an Alpine secdb YAML file. A CVE listed
    under two fixed versions of one package (a backport) keeps the higher one."""
    from seawall.vulndb.versions import scheme_for

    key = scheme_for("Alpine").key
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    release = document["distroversion"]
    fixes: dict[tuple[str, str], str] = {}
    for entry in document.get("packages") or []:
        package = entry["pkg"]
        for fixed, cves in (package.get("secfixes") or {}).items():
            for cve in cves or []:
                slot = (str(cve).split()[0], package["name"])
                if slot not in fixes or key(str(fixed)) > key(fixes[slot]):
                    fixes[slot] = str(fixed)
    for (cve_id, name), fixed in fixes.items():
        yield {
            "id": f"ALPINE-{cve_id}-{name}",
            "aliases": [cve_id],
            "modified": "2020-01-01T00:00:00Z",
            "affected": [
                {
                    "package": {"ecosystem": f"Alpine:{release}", "name": name},
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                    ],
                }
            ],
        }


_COMPARATOR = re.compile(r"(<=|>=|<|>|=)?\s*v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)")


def _events(alternative: str) -> list[dict[str, str]] | None:
    """OSV events for one ``||`` alternative of an npm range, or None if not expressible."""
    events: list[dict[str, str]] = []
    for operator, version in _COMPARATOR.findall(alternative):
        if operator == ">=":
            events.append({"introduced": version})
        elif operator == "<":
            events.append({"fixed": version})
        elif operator == "<=":
            events.append({"last_affected": version})
        else:
            return None  # ">" and "=" have no OSV range event
    if not events:
        return None
    if "introduced" not in events[0]:
        events.insert(0, {"introduced": "0"})
    return events


def npm_security_wg_to_osv(path: Path) -> dict[str, Any] | None:
    """An OSV record from one Node.js security WG advisory (None if its range is exotic)."""
    advisory = json.loads(path.read_text(encoding="utf-8"))
    if "module_name" not in advisory:
        return None
    ranges = []
    for alternative in str(advisory.get("vulnerable_versions") or "").split("||"):
        events = _events(alternative)
        if events is None:
            return None
        ranges.append({"type": "SEMVER", "events": events})
    record: dict[str, Any] = {
        "id": f"NSWG-ECO-{advisory['id']}",
        "aliases": advisory.get("cves") or [],
        "summary": advisory.get("title", ""),
        "modified": f"{advisory.get('updated_at') or advisory.get('created_at')}T00:00:00Z",
        "affected": [
            {"package": {"ecosystem": "npm", "name": advisory["module_name"]}, "ranges": ranges}
        ],
    }
    if advisory.get("cvss_vector"):
        record["severity"] = [{"type": "CVSS_V3", "score": advisory["cvss_vector"]}]
    return record
