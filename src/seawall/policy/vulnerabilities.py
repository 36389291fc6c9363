"""The interface through which the image policy learns what a scanner found in an image.

The scanner lives elsewhere; the policy only needs a lookup from an image reference to the
latest scan result (or ``None`` when the image was never scanned). :func:`load_scan_results`
reads a JSON file of results for the command line and tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import msgspec

from seawall.errors import InputError
from seawall.model import Severity


class ImageVulnerability(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: str
    severity: str = "unknown"
    resolved: bool = False  # fixed in the running image, or accepted as a risk

    @property
    def level(self) -> Severity:
        try:
            return Severity.parse(self.severity)
        except ValueError:
            return Severity.UNKNOWN


class ImageScanResult(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    image: str
    scanned_at: str = ""
    vulnerabilities: tuple[ImageVulnerability, ...] = ()


ScanLookup = Callable[[str], ImageScanResult | None]


def lookup_from(results: Mapping[str, ImageScanResult]) -> ScanLookup:
    """A lookup over known results, by the exact reference the pod uses."""
    return results.get


def load_scan_results(path: Path) -> ScanLookup:
    """Read ``[{"image": ..., "vulnerabilities": [{"id", "severity", "resolved"}]}]``."""
    try:
        results = msgspec.json.decode(path.read_bytes(), type=list[ImageScanResult])
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise InputError(f"{path}: not a list of scan results: {exc}") from None
    return lookup_from({result.image: result for result in results})
