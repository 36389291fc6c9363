"""SPDX 2.3 JSON for an image inventory.

Written directly as JSON: the document is small and fixed in shape, and the official
``spdx-tools`` library would add a large dependency tree for what is a dictionary dump.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from seawall import __version__
from seawall.model import Inventory, Package
from seawall.report.common import json_text
from seawall.report.licenses import spdx_expression


def _declared(package: Package) -> str:
    expressions = [spdx_expression(text) for text in package.licenses]
    if not expressions or any(e is None for e in expressions):
        return "NOASSERTION"
    unique = list(dict.fromkeys(e for e in expressions if e))
    return unique[0] if len(unique) == 1 else " AND ".join(f"({e})" for e in unique)


def _package(package: Package, index: int) -> dict[str, object]:
    entry: dict[str, object] = {
        "SPDXID": f"SPDXRef-Package-{index}",
        "name": package.name,
        "versionInfo": package.version,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": _declared(package),
        "copyrightText": "NOASSERTION",
        "sourceInfo": f"declared in /{package.path}",
        "primaryPackagePurpose": "LIBRARY",
    }
    if package.purl:
        entry["externalRefs"] = [
            {
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": package.purl,
            }
        ]
    if package.layer_digest:
        entry["comment"] = f"layer {package.layer_digest}: {package.layer_created_by}"[:2000]
    return entry


def inventory_to_spdx(inventory: Inventory) -> str:
    """The inventory as an SPDX 2.3 JSON document."""
    image = inventory.image
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    image_id = "SPDXRef-Image"
    packages = [
        {
            "SPDXID": image_id,
            "name": image.reference,
            "versionInfo": image.config_digest or "NOASSERTION",
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "primaryPackagePurpose": "CONTAINER",
        }
    ]
    relationships = [
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": image_id,
        }
    ]
    for index, package in enumerate(inventory.packages):
        entry = _package(package, index)
        packages.append(entry)
        relationships.append(
            {
                "spdxElementId": image_id,
                "relationshipType": "CONTAINS",
                "relatedSpdxElement": str(entry["SPDXID"]),
            }
        )
    document = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": image.reference,
        "documentNamespace": f"https://seawall.dev/spdx/{uuid.uuid4()}",
        "creationInfo": {"created": created, "creators": [f"Tool: seawall-{__version__}"]},
        "packages": packages,
        "relationships": relationships,
    }
    return json_text(document)
