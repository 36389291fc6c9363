"""CycloneDX 1.6 JSON for an image inventory, and for a scan (with its vulnerabilities).

Written directly as JSON, not through cyclonedx-python-lib: the library's model (sorted sets
of components, properties and dependencies, validated on every assignment) cost ~190 ms for
260 packages and 4 s for 2,600, against a few milliseconds here; the document's shape is
fixed and small. The library stays the judge in the tests: every document is validated
against the 1.6 JSON schema and read back by the library, which must find the same
components, licences, properties, dependencies and vulnerabilities.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import TYPE_CHECKING, Any

from seawall import __version__
from seawall.model import Ecosystem, Inventory, Package
from seawall.report.common import ADVISORY_URL, json_text
from seawall.report.licenses import spdx_expression

if TYPE_CHECKING:
    from seawall.model import Vulnerability
    from seawall.vulndb.scan import ScanReport

SPEC_VERSION = "1.6"
SCHEMA = "http://cyclonedx.org/schema/bom-1.6.schema.json"
_NAME_LIMIT = 200  # a licence name that is no SPDX id, as found in a package's metadata
# (method, prefix its vectors carry): CycloneDX states the method and the vector without it
_CVSS = (("CVSSv4", re.compile(r"^CVSS:4\.\d/?")), ("CVSSv31", re.compile(r"^CVSS:3\.\d/?")))


def inventory_document(inventory: Inventory) -> dict[str, Any]:
    """The inventory as a CycloneDX BOM: the image as the subject, the distribution and one
    component per package, each a dependency of the image."""
    image = inventory.image
    components = []
    if inventory.distro:
        components.append(_optional({
            "type": "operating-system",
            "bom-ref": "os",
            "name": inventory.distro.id,
            "version": inventory.distro.version_id,
        }))  # fmt: skip
    components += [_component(package, index) for index, package in enumerate(inventory.packages)]
    subject = _optional({
        "type": "container",
        "bom-ref": "image",
        "name": image.reference,
        "version": image.config_digest,
        "properties": [{"name": "seawall:image:source", "value": image.source}],
    })  # fmt: skip
    return {
        "$schema": SCHEMA,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": uuid.uuid4().urn,
        "version": 1,
        "metadata": {
            "timestamp": dt.datetime.now(dt.UTC).isoformat(),
            "tools": {
                "components": [{"type": "application", "name": "seawall", "version": __version__}]
            },
            "component": subject,
        },
        "components": components,
        "dependencies": [
            {"ref": "image", "dependsOn": [c["bom-ref"] for c in components]},
            *({"ref": c["bom-ref"]} for c in components),
        ],
    }


def scan_document(report: ScanReport) -> dict[str, Any]:
    """The image's BOM with a vulnerabilities section: each finding rated, referenced by its
    aliases, and pointing at the component it affects."""
    document = inventory_document(report.inventory)
    index = {(*p.key, p.path): i for i, p in enumerate(report.inventory.packages)}
    document["vulnerabilities"] = [
        _vulnerability(v, _ref(v.package, index[(*v.package.key, v.package.path)]))
        for v in report.vulnerabilities
    ]
    return document


def inventory_to_cyclonedx(inventory: Inventory) -> str:
    """The inventory as a CycloneDX 1.6 JSON document."""
    return json_text(inventory_document(inventory))


def scan_to_cyclonedx(report: ScanReport) -> str:
    """A scan as a CycloneDX 1.6 JSON document with vulnerabilities."""
    return json_text(scan_document(report))


def _ref(package: Package, index: int) -> str:
    """A component's bom-ref: unique in the document (two packages can share a purl when
    installed at two paths)."""
    return f"pkg-{index}:{package.purl or package.name}"


def _component(package: Package, index: int) -> dict[str, Any]:
    properties = [{"name": "seawall:package:path", "value": package.path}]
    if package.layer_digest:
        properties.append({"name": "seawall:layer:digest", "value": package.layer_digest})
    if package.layer_created_by:
        properties.append({"name": "seawall:layer:created_by", "value": package.layer_created_by})
    if package.source_name:
        properties.append({"name": "seawall:package:source_name", "value": package.source_name})
        properties.append(
            {"name": "seawall:package:source_version", "value": package.source_version}
        )
    group, name = _group_and_name(package)
    return _optional({
        "type": "library",
        "bom-ref": _ref(package, index),
        "group": group,
        "name": name or "-",
        "version": package.version,
        "purl": package.purl,
        "licenses": _licenses(package),
        "properties": properties,
    })  # fmt: skip


def _group_and_name(package: Package) -> tuple[str, str]:
    """A Maven package's ``groupId:artifactId`` as CycloneDX's group and name; the others'
    whole name (a component's name is required: a name ending in ``:`` is kept whole)."""
    if package.ecosystem is Ecosystem.MAVEN:
        group, _, name = package.name.rpartition(":")
        if name:
            return group, name
    return "", package.name


def _licenses(package: Package) -> list[dict[str, Any]]:
    """SPDX ids, names otherwise; CycloneDX allows either one expression or a list of
    licences, so the first compound expression wins when there is one."""
    found: list[dict[str, Any]] = []
    for text in package.licenses:
        expression = spdx_expression(text)
        if expression is not None and " " in expression:
            return [{"expression": expression}]
        if expression is None:
            found.append({"license": {"name": text[:_NAME_LIMIT]}})
        else:
            found.append({"license": {"id": expression}})
    return found


def _vulnerability(vulnerability: Vulnerability, affected: str) -> dict[str, Any]:
    advisory = vulnerability.advisory
    method, vector = "other", advisory.cvss_vector
    for name, prefix in _CVSS:
        if prefix.match(vector):
            method, vector = name, prefix.sub("", vector)
            break
    rating = _optional({
        "score": advisory.cvss_score,
        "severity": vulnerability.severity.name.lower(),
        "method": method,
        "vector": vector,
    })  # fmt: skip
    fix = vulnerability.fixed_version if vulnerability.fixed else ""
    return _optional({
        "bom-ref": f"{advisory.id}:{affected}",
        "id": advisory.id,
        "source": {"name": "OSV", "url": ADVISORY_URL.format(advisory.id)},
        "references": [
            {"id": alias, "source": {"url": ADVISORY_URL.format(alias)}}
            for alias in advisory.aliases
        ],
        "ratings": [rating],
        "description": advisory.summary,
        "recommendation": f"Upgrade {vulnerability.package.name} to {fix}" if fix else "",
        "affects": [{"ref": affected}],
    })  # fmt: skip


def _optional(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` without the empty ones (the schema wants absent, not empty or null)."""
    return {key: value for key, value in fields.items() if value not in (None, "", [])}
