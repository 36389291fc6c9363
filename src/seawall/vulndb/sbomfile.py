"""Read a stored inventory back: a result envelope (``sbom -f json`` or ``image scan -f
json``), or a CycloneDX JSON SBOM (Seawall's or another tool's, through the components'
purls)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from packageurl import PackageURL

from seawall.contract import SCHEMA_ID, decode
from seawall.errors import InputError
from seawall.model import Ecosystem, ImageInfo, Inventory, OSInfo, Package

MAX_SBOM = 256 * 1024 * 1024
_TYPES = {e.value: e for e in Ecosystem}


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


def _package(component: dict[str, Any]) -> tuple[Package, OSInfo | None] | None:
    text = component.get("purl")
    if not isinstance(text, str):
        return None
    try:
        purl = PackageURL.from_string(text)
    except ValueError:
        return None
    ecosystem = _TYPES.get(purl.type)
    if ecosystem is None or not purl.version:
        return None
    properties = {
        str(p.get("name")): str(p.get("value", ""))
        for p in component.get("properties") or []
        if isinstance(p, dict)
    }
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


def _from_cyclonedx(document: dict[str, Any], path: Path) -> Inventory:
    packages: list[Package] = []
    distro: OSInfo | None = None
    skipped = 0
    for component in document.get("components") or []:
        if not isinstance(component, dict):
            skipped += 1
            continue
        if component.get("type") == "operating-system" and component.get("name"):
            distro = OSInfo(id=str(component["name"]), version_id=str(component.get("version", "")))
            continue
        found = _package(component)
        if found is None:
            skipped += 1
            continue
        packages.append(found[0])
        distro = distro or found[1]
    metadata = document.get("metadata") or {}
    root = metadata.get("component") or {} if isinstance(metadata, dict) else {}
    reference = str(root.get("name") or path) if isinstance(root, dict) else str(path)
    warnings = (f"{skipped} components without a usable purl were skipped",) if skipped else ()
    return Inventory(
        image=ImageInfo(reference=reference, source="cyclonedx"),
        distro=distro,
        packages=tuple(packages),
        warnings=warnings,
    )


def load_inventory(path: Path) -> Inventory:
    """The inventory stored in ``path``; InputError when it is neither format."""
    try:
        if path.stat().st_size > MAX_SBOM:
            raise InputError(f"{path}: larger than {MAX_SBOM} bytes")
        data = path.read_bytes()
        document = msgspec.json.decode(data)
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    except msgspec.DecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InputError(f"{path}: not an SBOM")
    if document.get("bomFormat") == "CycloneDX":
        return _from_cyclonedx(document, path)
    if document.get("schema") == SCHEMA_ID:
        envelope = decode(data, str(path))
        if envelope.inventory is None:
            raise InputError(f"{path}: a {envelope.kind} result holds no inventory")
        return envelope.inventory
    # Seawall 0.1's own JSON (inventory/v1, scan/v1): stored SBOMs stay readable.
    stored = document.get("inventory") or (document.get("report") or {}).get("inventory")
    if isinstance(stored, dict):
        try:
            return msgspec.convert(stored, Inventory)
        except msgspec.ValidationError as exc:
            raise InputError(f"{path}: malformed Seawall inventory: {exc}") from None
    raise InputError(
        f"{path}: neither a Seawall JSON inventory nor a CycloneDX SBOM",
        hint="write one with `seawall sbom IMAGE -f json` or `-f cyclonedx`",
    )
