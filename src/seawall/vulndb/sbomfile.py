"""Read a stored inventory back: a result envelope (``sbom -f json`` or ``image scan -f
json``), or a CycloneDX or SPDX 2.3 JSON SBOM (Seawall's or another tool's, through the
packages' purls).

The file is untrusted: a regular file within the ``SBOM`` cap, its nesting and size checked
before it is parsed, and decoded against declared types in one pass. A wrong envelope
(``components: 3``) refuses the file, naming the field; a malformed component or package is
reported and skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import msgspec
from packageurl import PackageURL

from seawall.contract import SCHEMA_ID, decode
from seawall.errors import InputError
from seawall.model import Ecosystem, ImageInfo, Inventory, OSInfo, Package
from seawall.safety.files import read_regular
from seawall.safety.jsondoc import decode_json, decode_records
from seawall.safety.limits import max_bytes

MAX_REPORTED = 10  # malformed components named in the warnings; the rest are counted
_TYPES = {e.value: e for e in Ecosystem}


class _Property(msgspec.Struct):
    name: str = ""
    value: str = ""


class _Component(msgspec.Struct):
    """A CycloneDX component (the fields Seawall reads)."""

    type: str = ""
    name: str = ""
    version: str = ""
    purl: str | None = None
    properties: list[_Property] | None = None


class _ExternalRef(msgspec.Struct):
    referenceType: str = ""
    referenceLocator: str = ""


class _SpdxPackage(msgspec.Struct):
    """An SPDX package (the fields Seawall reads)."""

    name: str = ""
    versionInfo: str = ""
    primaryPackagePurpose: str = ""
    sourceInfo: str = ""
    externalRefs: list[_ExternalRef] | None = None


class _Named(msgspec.Struct):
    name: str = ""


class _Metadata(msgspec.Struct):
    component: _Named | None = None


_NULL = msgspec.Raw(b"null")


class _Report(msgspec.Struct):
    inventory: msgspec.Raw = _NULL


class _Document(msgspec.Struct):
    """What tells the formats apart, and the CycloneDX envelope; components stay raw and
    are decoded one by one."""

    bomFormat: object = None
    spdxVersion: object = None
    schema: object = None
    components: list[msgspec.Raw] | None = None  # CycloneDX
    metadata: _Metadata | None = None
    packages: list[msgspec.Raw] | None = None  # SPDX
    inventory: msgspec.Raw = _NULL  # Seawall 0.1's inventory/v1
    report: _Report | None = None  # Seawall 0.1's scan/v1


def _name(purl: PackageURL, ecosystem: Ecosystem) -> str:
    """The package name as advisories spell it, from a purl."""
    namespace = purl.namespace or ""
    if ecosystem is Ecosystem.MAVEN and namespace:
        return f"{namespace}:{purl.name}"
    if ecosystem in (Ecosystem.NPM, Ecosystem.COMPOSER, Ecosystem.GOLANG) and namespace:
        return f"{namespace}/{purl.name}"
    return purl.name


def _distro(purl: PackageURL) -> OSInfo | None:
    """The distribution named by an OS package's purl (``distro=debian-12``)."""
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    distro = str(qualifiers.get("distro", ""))
    if not distro or not purl.namespace:
        return None
    if purl.type == "apk":
        return OSInfo(id=purl.namespace, version_id=distro)
    name, _, version = distro.rpartition("-")
    return OSInfo(id=name or purl.namespace, version_id=version)


def _package(text: str, properties: dict[str, str]) -> tuple[Package, OSInfo | None] | None:
    """The package a purl names (with Seawall's properties, when it wrote them), and the
    distribution of an OS package; None when the purl is not one Seawall matches."""
    if not text:
        return None
    try:
        purl = PackageURL.from_string(text)
    except ValueError:
        return None
    ecosystem = _TYPES.get(purl.type)
    if ecosystem is None or not purl.version:
        return None
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    version = purl.version
    if ecosystem is Ecosystem.RPM and qualifiers.get("epoch"):
        version = f"{qualifiers['epoch']}:{version}"
    package = Package(
        ecosystem=ecosystem,
        name=_name(purl, ecosystem),
        version=version,
        path=properties.get("seawall:package:path", ""),
        source_name=properties.get("seawall:package:source_name")
        or str(qualifiers.get("upstream", "")),
        source_version=properties.get("seawall:package:source_version", ""),
        arch=str(qualifiers.get("arch", "")),
        purl=text,
        layer_digest=properties.get("seawall:layer:digest", ""),
        layer_created_by=properties.get("seawall:layer:created_by", ""),
    )
    return package, _distro(purl) if ecosystem.is_os else None


def _assemble(
    image: ImageInfo,
    distro: OSInfo | None,
    purls: Iterable[tuple[str, dict[str, str]]],
    malformed: list[str],
    entries: str,
) -> Inventory:
    """The inventory of the packages ``purls`` name (purl, properties); the distribution,
    if not given, from the first OS package; warnings for the ``entries`` (components,
    packages) skipped."""
    packages: list[Package] = []
    skipped = 0
    for text, properties in purls:
        found = _package(text, properties)
        if found is None:
            skipped += 1
            continue
        packages.append(found[0])
        distro = distro or found[1]
    warnings = malformed[:MAX_REPORTED]
    if len(malformed) > MAX_REPORTED:
        warnings.append(f"{len(malformed) - MAX_REPORTED} more malformed {entries} skipped")
    if skipped:
        warnings.append(f"{skipped} {entries} without a usable purl were skipped")
    return Inventory(image=image, distro=distro, packages=tuple(packages), warnings=tuple(warnings))


def _from_cyclonedx(document: _Document, name: str) -> Inventory:
    components, malformed = decode_records(document.components or (), _Component, name, "component")
    systems = [c for c in components if c.type == "operating-system" and c.name]
    distro = OSInfo(id=systems[-1].name, version_id=systems[-1].version) if systems else None
    root = document.metadata.component if document.metadata else None
    return _assemble(
        ImageInfo(reference=(root.name if root else "") or name, source="cyclonedx"),
        distro,
        (
            (c.purl or "", {p.name: p.value for p in c.properties or ()})
            for c in components
            if c not in systems
        ),
        malformed,
        "components",
    )


def _from_spdx(document: _Document, name: str) -> Inventory:
    packages, malformed = decode_records(document.packages or (), _SpdxPackage, name, "package")
    images = [p.name for p in packages if p.primaryPackagePurpose == "CONTAINER" and p.name]
    systems = [p for p in packages if p.primaryPackagePurpose == "OPERATING-SYSTEM" and p.name]
    distro = OSInfo(id=systems[-1].name, version_id=systems[-1].versionInfo) if systems else None
    return _assemble(
        ImageInfo(reference=images[0] if images else name, source="spdx"),
        distro,
        (
            (
                next(
                    (r.referenceLocator for r in p.externalRefs or () if r.referenceType == "purl"),
                    "",
                ),
                {"seawall:package:path": p.sourceInfo.removeprefix("declared in /")}
                if p.sourceInfo.startswith("declared in /")
                else {},
            )
            for p in packages
            if p.primaryPackagePurpose not in ("CONTAINER", "OPERATING-SYSTEM")
        ),
        malformed,
        "packages",
    )


def load_inventory(path: Path) -> Inventory:
    """The inventory stored in the regular file ``path`` (see :func:`parse_inventory`)."""
    return parse_inventory(read_regular(path, max_bytes("SBOM")), str(path))


def parse_inventory(data: bytes, name: str) -> Inventory:
    """The inventory in ``data``; InputError naming ``name`` when it is neither format, too
    deep or of the wrong shape."""
    document = decode_json(data, name, _Document)
    if document.bomFormat == "CycloneDX":
        return _from_cyclonedx(document, name)
    if isinstance(document.spdxVersion, str) and document.spdxVersion.startswith("SPDX-2"):
        return _from_spdx(document, name)
    if document.schema == SCHEMA_ID:
        envelope = decode(data, name)
        if envelope.inventory is None:
            raise InputError(f"{name}: a {envelope.kind} result holds no inventory")
        return envelope.inventory
    # Seawall 0.1's own JSON (inventory/v1, scan/v1): stored SBOMs stay readable.
    stored = bytes(document.inventory)
    if not stored.startswith(b"{") and document.report is not None:
        stored = bytes(document.report.inventory)
    if stored.startswith(b"{"):
        return decode_json(stored, f"{name}: malformed Seawall inventory", Inventory)
    raise InputError(
        f"{name}: neither a Seawall JSON inventory nor a CycloneDX or SPDX SBOM",
        hint="write one with `seawall sbom IMAGE -f json` or `-f cyclonedx`",
    )
