"""How long writing an SBOM takes once the inventory is read: Seawall's JSON, CycloneDX and
SPDX writers, and cyclonedx-python-lib building and writing the same CycloneDX document
(what ``seawall sbom -f cyclonedx`` used before it wrote CycloneDX itself).

The inventories are the demo image's (``examples/demo-image.tar.gz``: every ecosystem,
licences, layers) grown to 260, 1,000 and 2,600 packages by copying its packages under new
names, so every component is distinct. Each writer runs ``--runs`` times per size
(alternating); the table prints medians and each writer's time as a multiple of JSON's.
Prints figures only; exits 0 whatever they are.

    .venv/bin/python bench/sbom_writers.py [--runs 7] [--sizes 260,1000,2600]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from seawall.inventory.scan import InventoryOptions, build_inventory  # noqa: E402
from seawall.model import Inventory  # noqa: E402
from seawall.report.inventory import INVENTORY_WRITERS  # noqa: E402

DEMO = REPO / "examples" / "demo-image.tar.gz"


def grown(inventory: Inventory, size: int) -> Inventory:
    """``inventory`` with ``size`` packages: its own, then copies under new names."""
    packages = []
    for number in range(size):
        package = inventory.packages[number % len(inventory.packages)]
        copy = number // len(inventory.packages)
        name = package.name if copy == 0 else f"{package.name}-{copy}"
        purl = package.purl.replace(f"/{package.name}@", f"/{name}@", 1) if package.purl else ""
        packages.append(msgspec.structs.replace(package, name=name, purl=purl))
    return msgspec.structs.replace(inventory, packages=tuple(packages))


def library_cyclonedx(inventory: Inventory) -> str:
    """The same document built and written by cyclonedx-python-lib (the peer)."""
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.license import DisjunctiveLicense
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    bom = Bom()
    root = bom.metadata.component = Component(
        type=ComponentType.CONTAINER, name=inventory.image.reference, bom_ref="image"
    )
    for index, package in enumerate(inventory.packages):
        bom.components.add(
            Component(
                type=ComponentType.LIBRARY,
                name=package.name,
                version=package.version,
                purl=PackageURL.from_string(package.purl) if package.purl else None,
                bom_ref=f"pkg-{index}:{package.purl or package.name}",
                licenses=[DisjunctiveLicense(name=text) for text in package.licenses],
                properties=[Property(name="seawall:package:path", value=package.path)],
            )
        )
    bom.register_dependency(root, [*bom.components])
    return str(JsonV1Dot6(bom).output_as_string(indent=2))


def timed(write: Callable[[Inventory], str], inventory: Inventory) -> float:
    start = time.perf_counter()
    write(inventory)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", default="260,1000,2600")
    args = parser.parse_args()
    demo = build_inventory(str(DEMO), InventoryOptions(cache_dir=None), workers=1)
    writers: dict[str, Callable[[Inventory], str]] = {
        "json": INVENTORY_WRITERS["json"],
        "cyclonedx": INVENTORY_WRITERS["cyclonedx"],
        "spdx": INVENTORY_WRITERS["spdx"],
        "cyclonedx-python-lib": library_cyclonedx,
    }
    print(f"{'packages':>8}  " + "  ".join(f"{name:>22}" for name in writers))
    for size in (int(s) for s in args.sizes.split(",")):
        inventory = grown(demo, size)
        times: dict[str, list[float]] = {name: [] for name in writers}
        for _ in range(args.runs):
            for name, write in writers.items():
                times[name].append(timed(write, inventory))
        base = statistics.median(times["json"])
        cells = []
        for name in writers:
            median = statistics.median(times[name])
            cells.append(f"{median * 1000:9.1f} ms ({median / base:5.1f}x)")
        print(f"{size:>8,}  " + "  ".join(f"{cell:>22}" for cell in cells), flush=True)


if __name__ == "__main__":
    main()
