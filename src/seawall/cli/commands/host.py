"""``seawall host audit``: the CIS Docker Benchmark against a Docker host."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from seawall.cli.options import (
    ChecksOpt,
    FailOnOpt,
    OutputOpt,
    SkipOpt,
    parse_threshold,
    split_values,
)
from seawall.cli.output import emit
from seawall.cli.upload import TokenOpt, UploadOpt, send
from seawall.errors import EnvironmentFailure, InputError
from seawall.model import Severity

if TYPE_CHECKING:
    from rich.console import Group

    from seawall.hardening.docker.audit import HostAudit


class HostFormat(enum.StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"
    junit = "junit"


def register(app: typer.Typer) -> None:
    """Add ``seawall host`` (with ``audit``) to the application."""
    host = typer.Typer(help="Assess Docker hosts.", no_args_is_help=True)
    host.command()(audit)
    app.add_typer(host, name="host")


def audit(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            "-H",
            help="Docker endpoint: unix:///path or tcp://host:port "
            "(default: $DOCKER_HOST or the local socket).",
        ),
    ] = "",
    cert_path: Annotated[
        str, typer.Option(help="Directory with ca.pem, cert.pem and key.pem for TLS (tcp).")
    ] = "",
    root: Annotated[
        Path, typer.Option(help="Where the host's filesystem is mounted (e.g. /host).")
    ] = Path("/"),
    checks: ChecksOpt = None,
    skip: SkipOpt = None,
    include_stopped: Annotated[
        bool, typer.Option(help="Also assess stopped (and created) containers.")
    ] = False,
    trusted_users: Annotated[
        list[str] | None,
        typer.Option(
            metavar="USERS",
            help="Users allowed in the docker group (check 1.1.2), comma-separated.",
        ),
    ] = None,
    format: Annotated[
        HostFormat, typer.Option("--format", "-f", help="Output format.")
    ] = HostFormat.table,
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    upload: UploadOpt = "",
    token: TokenOpt = "",
) -> None:
    """Assess a Docker host against all 117 checks of the CIS Docker Benchmark 1.6.0."""
    from seawall.hardening.docker.audit import AuditOptions, audit_host
    from seawall.hardening.docker.collect import CollectOptions
    from seawall.report.findings import fails_at

    threshold = parse_threshold(fail_on)
    if not root.is_dir():
        raise InputError(f"--root {root} is not a directory")
    result = audit_host(
        AuditOptions(
            collect=CollectOptions(
                endpoint=host,
                cert_path=cert_path,
                root=root,
                include_stopped=include_stopped,
                trusted_users=split_values(trusted_users),
            ),
            checks=split_values(checks),
            skip=split_values(skip),
        )
    )
    text, renderable = _render(result, format, threshold)
    emit(text, output, renderable)
    if upload and result.assessed:
        from seawall.report.envelope.host import host_envelope

        send(host_envelope(result, threshold), upload, token)
    if not result.assessed:
        raise EnvironmentFailure(
            "nothing could be assessed: " + result.inventory.get("error", "every check failed"),
            hint="check --host and --root",
        )
    if fails_at(result.findings, threshold):
        raise typer.Exit(1)


def _render(
    result: HostAudit, format: HostFormat, threshold: Severity | None
) -> tuple[str, Group | None]:
    from seawall.report import findings as writers

    if format is HostFormat.json:
        from seawall.contract import encode_pretty
        from seawall.report.envelope.host import host_envelope

        return encode_pretty(host_envelope(result, threshold)), None
    if format is HostFormat.sarif:
        return writers.findings_to_sarif(result.findings), None
    if format is HostFormat.junit:
        return writers.findings_to_junit(result.findings, "CIS Docker Benchmark 1.6.0"), None
    renderable = host_table(result)
    return writers.findings_to_text(renderable), renderable


def host_table(result: HostAudit) -> Group:
    """The host's inventory, the findings by section and the score."""
    from seawall.report.benchmark import benchmark_view

    inventory = result.inventory
    lines = [
        f"{k}: {v}"
        for k, v in inventory.items()
        if k not in ("unmanaged_containers", "containers", "id")
    ]
    unmanaged = inventory.get("unmanaged_containers")
    if unmanaged is not None:
        lines.append(f"containers not managed by an orchestrator: {len(unmanaged)}")
    return benchmark_view(result.findings, "CIS Docker Benchmark 1.6.0", lines, result.score)
