"""Writers for an image inventory: table, Seawall JSON, CycloneDX 1.6, SPDX 2.3."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from rich.console import Group
from rich.table import Table
from rich.text import Text

from seawall.model import Inventory
from seawall.report.common import render_plain


def inventory_to_json(inventory: Inventory) -> str:
    """The ``inventory`` envelope of the result contract, readable back by ``sbom match``."""
    from seawall.contract import encode_pretty
    from seawall.report.envelope.image import inventory_envelope

    return encode_pretty(inventory_envelope(inventory))


def inventory_table(inventory: Inventory) -> Group:
    """A Rich renderable: a summary line and one row per package."""
    image = inventory.image
    distro = inventory.distro.pretty if inventory.distro else "unknown distribution"
    counts = Counter(p.ecosystem.value for p in inventory.packages)
    summary = ", ".join(f"{n} {eco}" for eco, n in sorted(counts.items())) or "no packages"
    header = Text.assemble(
        (image.reference, "bold"),
        f"  {image.os}/{image.architecture}  {distro}  {len(image.layers)} layers  ",
        (f"{len(inventory.packages)} packages", "bold"),
        f" ({summary})",
    )
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for column in ("Type", "Name", "Version", "Layer", "Path"):
        table.add_column(column, overflow="fold")
    layer_index = {layer.digest: layer.index for layer in image.layers}
    for package in inventory.packages:
        layer = layer_index.get(package.layer_digest)
        table.add_row(
            package.ecosystem.value,
            package.name,
            package.version,
            "" if layer is None else str(layer),
            package.path,
        )
    parts: list[Text | Table] = [header, table]
    if inventory.warnings:
        parts.append(Text(f"{len(inventory.warnings)} warnings (see --format json)", "yellow"))
    return Group(*parts)


def inventory_to_table(inventory: Inventory) -> str:
    """The table as plain text, for ``-o FILE``."""
    return render_plain(inventory_table(inventory))


def inventory_to_cyclonedx(inventory: Inventory) -> str:
    """CycloneDX 1.6 JSON (the library takes 100 ms to import: loaded on demand)."""
    from seawall.report.cyclonedx import inventory_to_cyclonedx as write

    return write(inventory)


def inventory_to_spdx(inventory: Inventory) -> str:
    """SPDX 2.3 JSON."""
    from seawall.report.spdx import inventory_to_spdx as write

    return write(inventory)


INVENTORY_WRITERS: dict[str, Callable[[Inventory], str]] = {
    "table": inventory_to_table,
    "json": inventory_to_json,
    "cyclonedx": inventory_to_cyclonedx,
    "spdx": inventory_to_spdx,
}
