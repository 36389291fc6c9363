"""Seawall writes CycloneDX and SPDX itself (cyclonedx-python-lib was most of an SBOM's
time); the libraries are the judges here. Every CycloneDX document passes the 1.6 JSON
schema validator and is read back by cyclonedx-python-lib, which must find each package as a
component (name, group, version, purl, licences, properties), the image depending on all of
them, and each finding as a vulnerability of its component; every SPDX document is parsed
and validated by spdx-tools and holds each package. Random inventories (hypothesis) and the
demo image's scan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.model.bom import Bom
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from seawall.model import Ecosystem, ImageInfo, Inventory, OSInfo, Package
from seawall.report.cyclonedx import inventory_to_cyclonedx, scan_to_cyclonedx
from seawall.report.licenses import spdx_expression
from seawall.report.spdx import inventory_to_spdx
from seawall.vulndb.scan import ScanOptions, scan_inventory
from seawall.vulndb.store import AdvisoryStore
from tests.support.advisorydb import demo_database
from tests.support.envelopes import demo_inventory

VALIDATOR = JsonStrictValidator(SchemaVersion.V1_6)


def _read(text: str) -> Bom:
    """The document, validated by the schema and read by the library."""
    assert VALIDATOR.validate_str(text) is None
    bom = Bom.from_json(json.loads(text))  # type: ignore[attr-defined]
    assert isinstance(bom, Bom)
    return bom


def _expected_licences(package: Package) -> set[tuple[str, str]]:
    found = set()
    for text in package.licenses:
        expression = spdx_expression(text)
        if expression is not None and " " in expression:
            return {("expression", expression)}
        found.add(("name", text[:200]) if expression is None else ("id", expression))
    return found


def _licences_of(component: object) -> set[tuple[str, str]]:
    found = set()
    for licence in component.licenses:  # type: ignore[attr-defined]
        if hasattr(licence, "value"):  # an expression
            found.add(("expression", licence.value))
        elif licence.id:
            found.add(("id", licence.id))
        else:
            found.add(("name", licence.name))
    return found


def _check(inventory: Inventory, bom: Bom) -> dict[str, object]:
    """Each package is a component as it should be; the components by bom-ref."""
    by_ref = {str(c.bom_ref.value): c for c in bom.components}
    libraries = [c for c in bom.components if c.type.value == "library"]
    assert len(libraries) == len(inventory.packages)
    for index, package in enumerate(inventory.packages):
        component = by_ref[f"pkg-{index}:{package.purl or package.name}"]
        group, name = "", package.name  # a Maven name is split at its last colon
        if package.ecosystem is Ecosystem.MAVEN and package.name.rpartition(":")[2]:
            group, _, name = package.name.rpartition(":")
        assert (component.group or "", component.name, component.version or "") == (
            group, name or "-", package.version)  # fmt: skip
        assert (component.purl.to_string() if component.purl else "") == package.purl
        assert _licences_of(component) == _expected_licences(package)
        properties = {p.name: p.value for p in component.properties}
        assert properties["seawall:package:path"] == package.path
        assert properties.get("seawall:layer:digest", "") == package.layer_digest
        assert properties.get("seawall:package:source_name", "") == package.source_name
    root = bom.metadata.component
    assert root is not None and root.type.value == "container"
    assert root.name == inventory.image.reference
    dependencies = {
        str(d.ref.value): {str(x.ref.value) for x in d.dependencies} for d in bom.dependencies
    }
    assert dependencies["image"] == set(by_ref)  # the image holds everything
    return by_ref


TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30
)
LICENCES = st.sampled_from(["MIT", "Apache-2.0", "GPL-2.0-or-later OR MIT", "BSD-3-Clause",
                            "Some licence", "(MIT AND Zlib)", "LicenseRef-x"]) | TEXT  # fmt: skip
PACKAGES = st.builds(
    Package,
    ecosystem=st.sampled_from([Ecosystem.NPM, Ecosystem.PYPI, Ecosystem.MAVEN, Ecosystem.DEB]),
    name=TEXT,
    version=TEXT,
    path=TEXT,
    source_name=st.just("") | TEXT,
    source_version=TEXT,
    licenses=st.lists(LICENCES, max_size=3).map(tuple),
    purl=st.sampled_from(["", "pkg:npm/%40scope/left-pad@1.3.0", "pkg:pypi/requests@2.32.3",
                          "pkg:deb/debian/openssl@3.0.19-1~deb12u2?arch=amd64&distro=debian-12"]),
    layer_digest=st.just("") | st.just("sha256:" + "a" * 64),
    layer_created_by=st.just("") | TEXT,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(packages=st.lists(PACKAGES, max_size=12), reference=TEXT, distro=st.booleans())
def test_any_inventory_is_a_valid_bom_the_library_reads_back(
    packages: list[Package], reference: str, distro: bool
) -> None:
    inventory = Inventory(
        image=ImageInfo(
            reference=reference, source="docker-archive", config_digest="sha256:" + "b" * 64
        ),
        distro=OSInfo(id="debian", version_id="12") if distro else None,
        packages=tuple(packages),
    )
    bom = _read(inventory_to_cyclonedx(inventory))
    by_ref = _check(inventory, bom)
    assert ("os" in by_ref) == distro


def _plain_text(package: Package) -> bool:
    """Name and version without control characters or surrounding white space (spdx-tools
    strips the one, and reads a version holding the other as NOASSERTION)."""
    return all(
        text.isprintable() and text == text.strip() for text in (package.name, package.version)
    )


def _inventory(packages: list[Package], reference: str, distro: bool) -> Inventory:
    return Inventory(
        image=ImageInfo(
            reference=reference, source="docker-archive", config_digest="sha256:" + "b" * 64
        ),
        distro=OSInfo(id="debian", version_id="12") if distro else None,
        packages=tuple(packages),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(packages=st.lists(PACKAGES.filter(_plain_text), max_size=8), reference=TEXT)
def test_any_inventory_is_a_valid_spdx_document(
    packages: list[Package], reference: str, tmp_path: Path
) -> None:
    inventory = _inventory(packages, reference, distro=False)
    path = tmp_path / "sbom.spdx.json"
    path.write_text(inventory_to_spdx(inventory), encoding="utf-8")
    document = parse_file(str(path))
    assert validate_full_spdx_document(document) == []
    written = sorted((p.name, str(p.version)) for p in document.packages[1:])
    assert written == sorted((p.name, p.version) for p in packages)


@pytest.fixture(scope="module")
def demo_scan(tmp_path_factory: pytest.TempPathFactory) -> object:
    inventory = demo_inventory()
    database = demo_database(Path(tmp_path_factory.mktemp("db")))
    with AdvisoryStore.open(database) as store:
        return scan_inventory(inventory, store, ScanOptions(), store.describe())


def test_a_scans_findings_are_vulnerabilities_of_their_components(demo_scan) -> None:  # type: ignore[no-untyped-def]
    report = demo_scan
    bom = _read(scan_to_cyclonedx(report))
    by_ref = _check(report.inventory, bom)
    assert len(report.vulnerabilities) >= 3
    found = {v.id: v for v in bom.vulnerabilities}
    assert set(found) == {v.advisory.id for v in report.vulnerabilities}
    for vulnerability in report.vulnerabilities:
        written = found[vulnerability.advisory.id]
        (target,) = written.affects
        component = by_ref[str(target.ref)]
        assert component.purl.to_string() == vulnerability.package.purl
        (rating,) = written.ratings
        assert rating.severity.value == vulnerability.severity.name.lower()
        assert vulnerability.advisory.cvss_vector.endswith(rating.vector or "")
        assert {r.id for r in written.references} == set(vulnerability.advisory.aliases)
        if vulnerability.fixed:
            assert vulnerability.fixed_version in (written.recommendation or "")
