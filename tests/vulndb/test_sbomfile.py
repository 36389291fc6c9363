"""Reading an SBOM back for ``sbom match``: CycloneDX by purls, Seawall's own JSON, and
hostile files refused in one line or skipped record by record."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.errors import InputError
from seawall.model import Ecosystem, ImageInfo, Inventory, Package
from seawall.vulndb.sbomfile import load_inventory
from tests.support.hostile import deep_json

CYCLONEDX = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.5",
    "metadata": {"component": {"name": "registry/app:1", "type": "container"}},
    "components": [
        {"type": "operating-system", "name": "debian", "version": "12"},
        {"type": "library", "name": "openssl",
         "purl": "pkg:deb/debian/openssl@3.0.11?distro=debian-12"},
        {"type": "library", "name": "requests", "purl": "pkg:pypi/requests@2.31.0",
         "properties": [{"name": "seawall:package:path", "value": "/app/req.txt"}]},
        {"type": "library", "name": "nopurl"},
    ],
}  # fmt: skip


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "sbom.json"
    path.write_bytes(json.dumps(document).encode() if not isinstance(document, bytes) else document)
    return path


def test_cyclonedx_components_become_packages(tmp_path: Path) -> None:
    inventory = load_inventory(write(tmp_path, CYCLONEDX))
    assert inventory.image.reference == "registry/app:1"
    assert inventory.distro is not None and inventory.distro.id == "debian"
    assert [(p.ecosystem, p.name, p.version, p.path) for p in inventory.packages] == [
        (Ecosystem.DEB, "openssl", "3.0.11", ""),
        (Ecosystem.PYPI, "requests", "2.31.0", "/app/req.txt"),
    ]
    assert inventory.warnings == ("1 components without a usable purl were skipped",)


def test_a_malformed_component_is_reported_and_skipped(tmp_path: Path) -> None:
    document = {**CYCLONEDX, "components": [*CYCLONEDX["components"], {"purl": 7}, "x"]}
    inventory = load_inventory(write(tmp_path, document))
    assert len(inventory.packages) == 2
    name = str(tmp_path / "sbom.json")
    assert inventory.warnings[:2] == (
        f"{name}: component 5: field purl: expected string or null, got int; skipped",
        f"{name}: component 6: expected object, got string; skipped",
    )


def test_legacy_seawall_inventory_is_read(tmp_path: Path) -> None:
    stored = Inventory(
        image=ImageInfo(reference="a:1", source="docker"),
        distro=None,
        packages=(Package(ecosystem=Ecosystem.NPM, name="left-pad", version="1.0.0", path="/app"),),
    )
    document = {"schema": "seawall/inventory/v1", "inventory": msgspec.to_builtins(stored)}
    assert load_inventory(write(tmp_path, document)) == stored


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"bomFormat": "CycloneDX", "components": 3},
         "field components: expected list or null, got int"),
        ({"bomFormat": "CycloneDX", "metadata": []},
         "field metadata: expected object or null, got list"),
        (deep_json(), "JSON nested deeper than 64 levels"),
        (b'{"bomFormat": "CycloneDX", "components": [' + deep_json() + b"]}", "nested deeper"),
        ({"what": "else"}, "neither a Seawall JSON inventory nor a CycloneDX or SPDX SBOM"),
        (b"\xff", "not valid JSON"),
    ],
    ids=["components-int", "metadata-list", "deep", "deep-component", "unknown", "binary"],
)  # fmt: skip
def test_a_bad_envelope_refuses_the_file(tmp_path: Path, document: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_inventory(write(tmp_path, document))


def test_only_regular_files_are_read() -> None:
    with pytest.raises(InputError, match="/dev/zero: a character device, not a regular file"):
        load_inventory(Path("/dev/zero"))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=30,
)
_FIELDS = [
    "bomFormat",
    "components",
    "metadata",
    "purl",
    "properties",
    "name",
    "schema",
    "inventory",
]


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from(_FIELDS), _JSON),
    st.lists(st.dictionaries(st.sampled_from(_FIELDS), _JSON), max_size=3),
)
def test_any_structure_is_an_inventory_or_an_input_error(
    tmp_path_factory: pytest.TempPathFactory, top: dict[str, object], components: list[object]
) -> None:
    path = tmp_path_factory.mktemp("sbom") / "s.json"
    for document in (top, {**top, "bomFormat": "CycloneDX", "components": components}):
        path.write_bytes(json.dumps(document).encode())
        with contextlib.suppress(InputError):
            load_inventory(path)


def test_seawall_cyclonedx_reads_back_package_for_package() -> None:
    from seawall.model import OSInfo
    from seawall.report.cyclonedx import inventory_to_cyclonedx
    from seawall.vulndb.sbomfile import parse_inventory

    packages = (
        Package(ecosystem=Ecosystem.DEB, name="openssl", version="3.0.11-1~deb12u2",
                path="/var/lib/dpkg/status", source_name="openssl", arch="amd64",
                purl="pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"),
        Package(ecosystem=Ecosystem.PYPI, name="requests", version="2.31.0",
                path="/app/requirements.txt", purl="pkg:pypi/requests@2.31.0"),
    )  # fmt: skip
    inventory = Inventory(
        image=ImageInfo(reference="app:1", source="docker"),
        distro=OSInfo(id="debian", version_id="12"),
        packages=packages,
    )
    read = parse_inventory(inventory_to_cyclonedx(inventory).encode(), "bom.json")
    assert read.warnings == ()
    assert [(p.ecosystem, p.name, p.version, p.path) for p in read.packages] == [
        (p.ecosystem, p.name, p.version, p.path) for p in packages
    ]


def test_seawall_spdx_reads_back_package_for_package() -> None:
    from seawall.model import OSInfo
    from seawall.report.spdx import inventory_to_spdx
    from seawall.vulndb.sbomfile import parse_inventory

    packages = (
        Package(ecosystem=Ecosystem.DEB, name="openssl", version="3.0.11-1~deb12u2",
                path="var/lib/dpkg/status", source_name="openssl", arch="amd64",
                purl="pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"),
        Package(ecosystem=Ecosystem.NPM, name="left-pad", version="1.3.0",
                path="app/package-lock.json", purl="pkg:npm/left-pad@1.3.0"),
        Package(ecosystem=Ecosystem.NPM, name="no-purl", version="1.0.0", path="x"),
    )  # fmt: skip
    inventory = Inventory(
        image=ImageInfo(reference="app:1", source="docker"),
        distro=OSInfo(id="debian", version_id="12"),
        packages=packages,
    )
    read = parse_inventory(inventory_to_spdx(inventory).encode(), "sbom.spdx.json")
    assert read.image.reference == "app:1" and read.image.source == "spdx"
    assert read.distro == OSInfo(id="debian", version_id="12")
    assert [(p.ecosystem, p.name, p.version, p.path) for p in read.packages] == [
        (p.ecosystem, p.name, p.version, p.path) for p in packages[:2]
    ]
    assert read.warnings == ("1 packages without a usable purl were skipped",)


def test_a_malformed_spdx_package_is_reported_and_skipped(tmp_path: Path) -> None:
    document = {"spdxVersion": "SPDX-2.3", "packages": [
        {"name": "a", "externalRefs": [{"referenceType": "purl",
                                        "referenceLocator": "pkg:pypi/a@1.0"}]},
        {"name": "b", "externalRefs": "pkg:pypi/b@1.0"},
    ]}  # fmt: skip
    inventory = load_inventory(write(tmp_path, document))
    assert [p.name for p in inventory.packages] == ["a"]
    assert inventory.warnings == (
        f"{tmp_path / 'sbom.json'}: package 2: field externalRefs: expected list or null,"
        " got string; skipped",
    )
    with pytest.raises(InputError, match="field packages: expected list or null, got int"):
        load_inventory(write(tmp_path, {"spdxVersion": "SPDX-2.3", "packages": 1}))
