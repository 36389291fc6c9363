"""The interface through which the image policy learns what a scanner found in an image.

The policy only needs a lookup from the image reference a pod uses to the latest scan result
(``None`` when the image was never scanned). :func:`load_scan_results` builds one from the
output of ``seawall image scan -f json`` as it is: ``image-scan`` envelopes, one per file, a
JSON array of them, or one per line. A pod's image is found by its exact reference, by the
normalised reference (``nginx`` is ``docker.io/library/nginx:latest``), or by its digest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import msgspec

from seawall.contract import Envelope, Kind, decode
from seawall.errors import InputError
from seawall.image.reference import parse_reference
from seawall.model import Severity, Status
from seawall.safety.files import read_regular
from seawall.safety.jsondoc import check_json, decode_json
from seawall.safety.limits import max_bytes


class ImageVulnerability(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    severity: str = "unknown"
    resolved: bool = False  # fixed in the running image, or accepted as a risk

    @property
    def level(self) -> Severity:
        try:
            return Severity.parse(self.severity)
        except ValueError:
            return Severity.UNKNOWN


class ImageScanResult(msgspec.Struct, frozen=True, kw_only=True):
    image: str
    scanned_at: str = ""
    vulnerabilities: tuple[ImageVulnerability, ...] = ()


ScanLookup = Callable[[str], ImageScanResult | None]


def _keys(reference: str) -> Iterator[str]:
    """``reference`` as written, normalised, and its digest, when it parses."""
    yield reference
    try:
        parsed = parse_reference(reference)
    except InputError:
        return
    yield str(parsed)
    if parsed.digest:
        yield parsed.digest


def lookup_from(results: Mapping[str, ImageScanResult]) -> ScanLookup:
    """A lookup over results indexed by :func:`_keys` of their references."""

    def lookup(reference: str) -> ImageScanResult | None:
        return next((results[k] for k in _keys(reference) if k in results), None)

    return lookup


def scan_result(envelope: Envelope) -> ImageScanResult:
    """What the image policy needs of an ``image-scan`` envelope: its open findings (VEX and
    ignore-file suppressions are already left out of the envelope's results)."""
    severities = {rule.id: rule for rule in envelope.rules}
    return ImageScanResult(
        image=envelope.asset.name,
        scanned_at=envelope.produced_at,
        vulnerabilities=tuple(
            ImageVulnerability(
                id=result.rule.partition("/")[2] or result.rule,
                severity=result.severity,
            )
            for result in envelope.results
            if result.status is Status.FAIL and result.rule in severities
        ),
    )


def _documents(data: bytes, source: str) -> Iterator[bytes]:
    """One envelope per file, a JSON array of envelopes, or one envelope per line."""
    stripped = data.strip()
    if stripped.startswith(b"["):
        items = decode_json(stripped, source, list[msgspec.Raw])
        yield from (bytes(item) for item in items)
    elif b"\n{" in stripped:
        yield from (line for line in stripped.splitlines() if line.strip())
    else:
        yield stripped


def load_scan_results(paths: Sequence[Path]) -> ScanLookup:
    """A lookup over the ``image-scan`` envelopes in ``paths`` (the newest scan of an image
    wins)."""
    envelopes: list[Envelope] = []
    for path in paths:
        data = read_regular(path, max_bytes("SCAN_RESULTS"))
        for number, document in enumerate(_documents(data, str(path)), start=1):
            check_json(document, f"{path} (document {number})")
            envelope = decode(document, f"{path} (document {number})")
            if envelope.kind is not Kind.IMAGE_SCAN:
                where = f"{path} (document {number})"
                raise InputError(
                    f"{where}: a result of kind {envelope.kind}, not an image scan",
                    hint="write it with `seawall image scan IMAGE -f json`",
                )
            envelopes.append(envelope)
    index: dict[str, ImageScanResult] = {}
    for envelope in sorted(envelopes, key=lambda e: e.produced_at):
        result = scan_result(envelope)
        asset = envelope.asset
        for reference in (*asset.references, asset.name):
            for key in _keys(reference):
                index[key] = result
        for digest in (asset.manifest_digest, asset.config_digest):
            if digest:
                index[digest] = result
    return lookup_from(index)
