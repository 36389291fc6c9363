"""Every inventory format is valid by its own standard's validator and carries the packages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from seawall.contract import Kind, decode
from seawall.inventory.scan import InventoryOptions, build_inventory
from seawall.model import Inventory
from seawall.report.inventory import INVENTORY_WRITERS

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo-image.tar.gz"


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return build_inventory(str(DEMO), InventoryOptions())


def test_demo_image_has_every_ecosystem(inventory: Inventory) -> None:
    ecosystems = {p.ecosystem.value for p in inventory.packages}
    assert ecosystems == {
        "deb",
        "pypi",
        "npm",
        "golang",
        "maven",
        "gem",
        "cargo",
        "composer",
        "nuget",
    }
    assert not any(p.name == "six" for p in inventory.packages)  # deleted by a whiteout


def test_cyclonedx_is_valid_1_6(inventory: Inventory) -> None:
    text = INVENTORY_WRITERS["cyclonedx"](inventory)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    document = json.loads(text)
    assert document["specVersion"] == "1.6"
    purls = {c.get("purl") for c in document["components"]}
    assert {p.purl for p in inventory.packages} <= purls
    assert document["metadata"]["component"]["type"] == "container"


def test_spdx_is_valid_2_3(inventory: Inventory, tmp_path: Path) -> None:
    path = tmp_path / "sbom.spdx.json"
    path.write_text(INVENTORY_WRITERS["spdx"](inventory))
    document = parse_file(str(path))
    assert validate_full_spdx_document(document) == []
    assert len(document.packages) == len(inventory.packages) + 1


def test_json_round_trips(inventory: Inventory) -> None:
    text = INVENTORY_WRITERS["json"](inventory)
    envelope = decode(text.encode())
    assert envelope.kind is Kind.INVENTORY
    assert envelope.asset.id == inventory.image.config_digest
    assert envelope.asset.references == ("seawall/demo:1.0",)
    assert envelope.inventory == inventory


def test_table_lists_every_package(inventory: Inventory) -> None:
    text = INVENTORY_WRITERS["table"](inventory)
    assert f"{len(inventory.packages)} packages" in text
    for package in inventory.packages:
        assert package.name in text
