"""``seawall image scan``: vulnerabilities of an image, with the fix for each package."""

from __future__ import annotations

from typing import Annotated

import typer

from seawall.cli.commands.sbom import (
    CacheDirOpt,
    DockerHostOpt,
    ImageArg,
    InsecureOpt,
    NoCacheOpt,
    PasswordOpt,
    PlatformOpt,
    SourceOpt,
    UserOpt,
    WorkersOpt,
    inventory_options,
    prefetcher_of,
    read_image,
)
from seawall.cli.options import FailOnOpt, OutputOpt
from seawall.cli.scanning import (
    DbOpt,
    IgnoreFileOpt,
    IgnoreUnfixedOpt,
    ScanFormat,
    SeverityOpt,
    VexOpt,
    report_scan,
)
from seawall.cli.upload import TokenOpt, UploadOpt

image_app = typer.Typer(name="image", no_args_is_help=True, help="Image vulnerability scanning.")


def register(app: typer.Typer) -> None:
    """Add ``seawall image scan``."""
    image_app.command("scan", no_args_is_help=True)(scan)
    app.add_typer(image_app)


def scan(
    ctx: typer.Context,
    image: ImageArg,
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
    """Find the known vulnerabilities of every package in IMAGE, offline, with fixes."""
    options = inventory_options(
        source, platform, username, password, insecure, docker_host, cache_dir, no_cache
    )
    inventory = read_image(image, options, workers, prefetcher_of(ctx))
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
