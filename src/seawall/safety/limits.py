"""How much of each kind of input Seawall reads: every cap in one place.

Each cap has a default no real input comes near (a large Helm chart renders to a few MB, a
big image's SBOM to a few tens) and can be raised or lowered for one run with the
environment variable ``SEAWALL_MAX_<KIND>_BYTES`` (``SEAWALL_MAX_<KIND>`` for the counts:
``SEAWALL_MAX_MANIFEST_DOCUMENTS``, ``SEAWALL_MAX_JSON_VALUES``,
``SEAWALL_MAX_INTEL_INDICATORS``). A cap is read when an input is opened, so a test or a user
can set it per process; a value that is not a positive integer is a usage error naming the
variable.
"""

from __future__ import annotations

import os

from seawall.errors import InputError

MiB = 1024 * 1024
# kind -> default cap in bytes
BYTES = {
    "MANIFEST": 32 * MiB,  # one Kubernetes manifest file, or stdin
    "VEX": 32 * MiB,  # an OpenVEX or CycloneDX VEX document
    "IGNORE": 4 * MiB,  # an --ignore-file
    "SBOM": 128 * MiB,  # an inventory given to `sbom match`
    "SCAN_RESULTS": 512 * MiB,  # image-scan results given to `k8s scan --scan-results`
    "OSV_RECORD": 32 * MiB,  # one OSV record (file or zip member)
    "RULES": 8 * MiB,  # a runtime rule file
    "INTEL": 64 * MiB,  # a threat-intelligence list or STIX bundle
    "SETTINGS": 4 * MiB,  # policy settings
    "EVENT_DOCUMENT": 64 * MiB,  # a whole-file Kubernetes audit EventList
    "AUDIT_EVENT": 4 * MiB,  # one Kubernetes audit event line
    "WEBHOOK_BODY": 32 * MiB,  # one batch (an EventList) posted to the audit webhook
    "DOCKER_EVENT": MiB,  # one recorded Docker event line
    "AUDITD_LINE": 64 * 1024,  # one auditd log line
    "KEV": 64 * MiB,  # a CISA KEV catalog
    "EPSS": 256 * MiB,  # an EPSS scores file, after gunzip
    "DATABASE": 8 * 1024 * MiB,  # an advisory database or bundle
    "DATABASE_ROW": 16 * MiB,  # one value of an advisory database, also once inflated
}
COUNTS = {
    "MANIFEST_DOCUMENTS": 100_000,  # YAML documents in one manifest file
    "JSON_VALUES": 4_000_000,  # values in one JSON document (a large SBOM: ~1 million)
    "INTEL_INDICATORS": 2_000_000,  # indicators in one intel file (large feeds: ~100,000)
}


def _configured(variable: str, default: int) -> int:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdecimal() or int(text) <= 0:
        raise InputError(f"{variable}: {text[:40]!r} is not a positive whole number")
    return int(text)


def max_bytes(kind: str) -> int:
    """The cap for ``kind`` (a key of :data:`BYTES`), ``$SEAWALL_MAX_<KIND>_BYTES`` if set."""
    return _configured(f"SEAWALL_MAX_{kind}_BYTES", BYTES[kind])


def max_count(kind: str) -> int:
    """The cap for ``kind`` (a key of :data:`COUNTS`), ``$SEAWALL_MAX_<KIND>`` if set."""
    return _configured(f"SEAWALL_MAX_{kind}", COUNTS[kind])
