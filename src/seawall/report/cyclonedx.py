"""CycloneDX 1.6 JSON for an image inventory, built with cyclonedx-python-lib."""

from __future__ import annotations

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from seawall import __version__
from seawall.model import Inventory, Package
from seawall.report.licenses import spdx_expression


def _licenses(package: Package) -> list[DisjunctiveLicense | LicenseExpression]:
    found: list[DisjunctiveLicense | LicenseExpression] = []
    for text in package.licenses:
        expression = spdx_expression(text)
        if expression is None:
            found.append(DisjunctiveLicense(name=text[:200]))
        elif " " in expression:
            found.append(LicenseExpression(expression))
        else:
            found.append(DisjunctiveLicense(id=expression))
    if any(isinstance(x, LicenseExpression) for x in found):
        # CycloneDX allows either one expression or a list of licences, not both.
        return [next(x for x in found if isinstance(x, LicenseExpression))]
    return found


def _component(package: Package, index: int) -> Component:
    properties = [Property(name="seawall:package:path", value=package.path)]
    if package.layer_digest:
        properties.append(Property(name="seawall:layer:digest", value=package.layer_digest))
    if package.layer_created_by:
        properties.append(Property(name="seawall:layer:created_by", value=package.layer_created_by))
    if package.source_name:
        properties.append(Property(name="seawall:package:source_name", value=package.source_name))
        properties.append(
            Property(name="seawall:package:source_version", value=package.source_version)
        )
    group, _, name = package.name.rpartition(":" if package.ecosystem.value == "maven" else "\0")
    return Component(
        type=ComponentType.LIBRARY,
        name=name,
        group=group or None,
        version=package.version,
        purl=PackageURL.from_string(package.purl) if package.purl else None,
        bom_ref=f"pkg-{index}:{package.purl or package.name}",
        licenses=_licenses(package),
        properties=properties,
    )


def inventory_bom(inventory: Inventory) -> tuple[Bom, list[Component]]:
    """The inventory as a CycloneDX BOM, and its components in package order."""
    image = inventory.image
    bom = Bom()
    root = bom.metadata.component = Component(
        type=ComponentType.CONTAINER,
        name=image.reference,
        version=image.config_digest or None,
        bom_ref="image",
        properties=[Property(name="seawall:image:source", value=image.source)],
    )
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="seawall", version=__version__)
    )
    if inventory.distro:
        distro = Component(
            type=ComponentType.OPERATING_SYSTEM,
            name=inventory.distro.id,
            version=inventory.distro.version_id or None,
            bom_ref="os",
        )
        bom.components.add(distro)
    components = [_component(package, index) for index, package in enumerate(inventory.packages)]
    for component in components:
        bom.components.add(component)
    # The image contains every package; the library wants the graph stated.
    bom.register_dependency(root, [*bom.components])
    return bom, components


def bom_to_json(bom: Bom) -> str:
    """CycloneDX 1.6 JSON text."""
    return str(JsonV1Dot6(bom).output_as_string(indent=2))


def inventory_to_cyclonedx(inventory: Inventory) -> str:
    """The inventory as a CycloneDX 1.6 JSON document."""
    return bom_to_json(inventory_bom(inventory)[0])
