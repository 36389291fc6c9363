"""``seawall sbom``: the package inventory of an image."""

from __future__ import annotations

import enum
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from seawall.cli.defaultgroup import default_group
from seawall.cli.options import FailOnOpt, OutputOpt
from seawall.cli.output import emit, stderr
from seawall.cli.scanning import (
    DbOpt,
    IgnoreFileOpt,
    IgnoreUnfixedOpt,
    ScanFormat,
    SeverityOpt,
    VexOpt,
    report_scan,
)
from seawall.cli.upload import TokenOpt, UploadOpt, send
from seawall.image.digests import DigestPrefetcher
from seawall.image.manifest import Platform
from seawall.image.source import SourceOptions
from seawall.inventory.cache import default_cache_dir
from seawall.inventory.scan import InventoryOptions, build_inventory
from seawall.model import Inventory
from seawall.report.inventory import INVENTORY_WRITERS, inventory_table

PROGRESS_DELAY = 1.0  # seconds before a progress bar is worth showing


class SbomFormat(enum.StrEnum):
    table = "table"
    json = "json"
    cyclonedx = "cyclonedx"
    spdx = "spdx"


class SourceName(enum.StrEnum):
    docker_archive = "docker-archive"
    oci_archive = "oci-archive"
    oci_layout = "oci-layout"
    registry = "registry"
    docker_daemon = "docker-daemon"


ImageArg = Annotated[
    str,
    typer.Argument(
        help="A docker-save or OCI archive (PATH[:NAME]), an OCI layout directory (DIR[:NAME]), "
        "or an image reference (registry or Docker daemon).",
        show_default=False,
    ),
]
SourceOpt = Annotated[
    SourceName | None, typer.Option("--source", help="Where IMAGE is; default: detect.")
]
PlatformOpt = Annotated[
    str | None,
    typer.Option(help="Platform to pick from a multi-platform image, os/arch[/variant]."),
]
UserOpt = Annotated[str, typer.Option("--username", "-u", help="Registry user name.")]
PasswordOpt = Annotated[
    str,
    typer.Option(
        "--password", "-p", help="Registry password or token.", envvar="SEAWALL_REGISTRY_PASSWORD"
    ),
]
InsecureOpt = Annotated[
    bool, typer.Option(help="Allow plain HTTP and unverified TLS for the registry.")
]
DockerHostOpt = Annotated[
    str, typer.Option(help="Docker Engine endpoint (default: $DOCKER_HOST or the local socket).")
]
CacheDirOpt = Annotated[
    Path | None, typer.Option(help="Layer cache directory (default: ~/.cache/seawall).")
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the layer cache.")
]
WorkersOpt = Annotated[int, typer.Option(help="Worker processes for layers (0: one per CPU).")]


def inventory_options(
    source: SourceName | None,
    platform: str | None,
    username: str,
    password: str,
    insecure: bool,
    docker_host: str,
    cache_dir: Path | None,
    no_cache: bool,
) -> InventoryOptions:
    """Build engine options from command-line values (shared by sbom and image scan)."""
    return InventoryOptions(
        source=source.value if source else "",
        source_options=SourceOptions(
            platform=Platform.parse(platform) if platform else None,
            username=username,
            password=password,
            insecure=insecure,
            docker_host=docker_host,
        ),
        cache_dir=None if no_cache else (cache_dir or default_cache_dir()),
    )


def prefetcher_of(ctx: typer.Context) -> DigestPrefetcher | None:
    """The prefetcher the entry point started on the image named on the command line (the
    context object; None when the app runs without the entry point)."""
    return ctx.obj if isinstance(ctx.obj, DigestPrefetcher) else None


def read_image(
    image: str, options: InventoryOptions, workers: int, prefetcher: DigestPrefetcher | None
) -> Inventory:
    """Build the inventory; on a terminal, a progress bar appears once a second has passed."""
    if not sys.stderr.isatty():
        return build_inventory(image, options, workers=workers, prefetcher=prefetcher)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        TextColumn("[bold]reading layers"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
    )
    task = progress.add_task("layers", total=None)
    timer = threading.Timer(PROGRESS_DELAY, progress.start)
    timer.start()
    try:
        return build_inventory(
            image,
            options,
            lambda _: progress.advance(task),
            workers=workers,
            prefetcher=prefetcher,
        )
    finally:
        timer.cancel()
        progress.stop()


sbom_app = typer.Typer(
    name="sbom",
    cls=default_group("image"),
    no_args_is_help=True,
    help="Package inventory (SBOM) of an image; `sbom IMAGE` is short for `sbom image IMAGE`.",
)


def register(app: typer.Typer) -> None:
    """Add ``seawall sbom [image] IMAGE`` and ``seawall sbom match SBOM``."""
    sbom_app.command("image", no_args_is_help=True)(sbom)
    sbom_app.command("match", no_args_is_help=True)(match)
    app.add_typer(sbom_app)


def sbom(
    ctx: typer.Context,
    image: ImageArg,
    format: Annotated[
        SbomFormat, typer.Option("--format", "-f", help="Output format.")
    ] = SbomFormat.table,
    output: OutputOpt = None,
    source: SourceOpt = None,
    platform: PlatformOpt = None,
    username: UserOpt = "",
    password: PasswordOpt = "",
    insecure: InsecureOpt = False,
    docker_host: DockerHostOpt = "",
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    workers: WorkersOpt = 0,
    upload: UploadOpt = "",
    token: TokenOpt = "",
) -> None:
    """List every package in IMAGE, with the layer and Dockerfile step that brought it."""
    options = inventory_options(
        source, platform, username, password, insecure, docker_host, cache_dir, no_cache
    )
    inventory = read_image(image, options, workers, prefetcher_of(ctx))
    text = INVENTORY_WRITERS[format.value](inventory)
    emit(text, output, inventory_table(inventory) if format is SbomFormat.table else None)
    if upload:
        from seawall.report.envelope.image import inventory_envelope

        send(inventory_envelope(inventory), upload, token)


def match(
    sbom_file: Annotated[
        Path,
        typer.Argument(
            metavar="SBOM", help="A Seawall JSON inventory, or a CycloneDX or SPDX JSON SBOM."
        ),
    ],
    format: Annotated[ScanFormat, typer.Option("--format", "-f", help="Output format.")] = (
        ScanFormat.table
    ),
    output: OutputOpt = None,
    db: DbOpt = None,
    severity: SeverityOpt = None,
    ignore_unfixed: IgnoreUnfixedOpt = False,
    fail_on: FailOnOpt = None,
    vex: VexOpt = None,
    ignore_file: IgnoreFileOpt = None,
    upload: UploadOpt = "",
    token: TokenOpt = "",
) -> None:
    """Re-evaluate a stored inventory against the advisory database, without the image."""
    from seawall.vulndb.sbomfile import load_inventory

    inventory = load_inventory(sbom_file)
    report_scan(
        inventory,
        db,
        format,
        output,
        severity,
        ignore_unfixed,
        fail_on,
        vex,
        ignore_file,
        upload,
        token,
    )
