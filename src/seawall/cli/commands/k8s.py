"""``seawall k8s scan``: posture of Kubernetes manifests or a live cluster."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from seawall.cli.options import FailOnOpt, OutputOpt, parse_threshold
from seawall.cli.output import emit
from seawall.cli.upload import TokenOpt, UploadOpt, send
from seawall.errors import InputError
from seawall.model import Status


class FindingsFormat(enum.StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"


FormatOpt = Annotated[FindingsFormat, typer.Option("--format", "-f", help="Output format.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Policy settings YAML (registries, actions, exemptions)."),
]
PolicyOpt = Annotated[
    list[str] | None,
    typer.Option("--policy", help="ConstraintTemplates and Constraints (file or directory)."),
]
ScanResultsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--scan-results",
        "--image-scans",
        help="`seawall image scan -f json` output (a file of one or more results; "
        "repeatable) for the image-vulnerabilities check.",
    ),
]
NoBuiltinOpt = Annotated[
    bool, typer.Option("--no-builtin", help="Evaluate only the --policy constraints.")
]


def register(app: typer.Typer) -> None:
    """Add ``seawall k8s`` to the application."""
    group = typer.Typer(help="Kubernetes posture.", no_args_is_help=True)
    group.command(name="scan")(scan)
    from seawall.cli.node_audit import node_audit

    group.command(name="node-audit")(node_audit)
    app.add_typer(group, name="k8s")


def build_engine(
    config: Path | None, policy: list[str] | None, scan_results: list[Path] | None, builtin: bool
) -> object:
    """The policy engine from command-line options (shared with ``admission serve``)."""
    from seawall.policy.engine import PolicyEngine
    from seawall.policy.library import PolicyLibrary
    from seawall.policy.settings import load_settings
    from seawall.policy.vulnerabilities import load_scan_results

    return PolicyEngine(
        load_settings(config),
        load_scan_results(scan_results) if scan_results else None,
        PolicyLibrary.load(policy) if policy else None,
        builtin=builtin,
    )


def scan(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Manifest files or directories (YAML/JSON); - reads stdin."),
    ] = None,
    kubeconfig: Annotated[
        Path | None, typer.Option(help="List a live cluster with this kubeconfig.")
    ] = None,
    context: Annotated[str | None, typer.Option(help="kubeconfig context to use.")] = None,
    cluster: Annotated[
        bool, typer.Option("--cluster", help="List the cluster of the default kubeconfig.")
    ] = False,
    include_owned: Annotated[
        bool, typer.Option(help="Also list objects a controller owns (Pods of a Deployment).")
    ] = False,
    format: FormatOpt = FindingsFormat.table,
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    config: ConfigOpt = None,
    policy: PolicyOpt = None,
    scan_results: ScanResultsOpt = None,
    no_builtin: NoBuiltinOpt = False,
    name: Annotated[
        str,
        typer.Option(
            help="The cluster's name in reports and the center (default: the kubeconfig "
            "context, or the manifests' directory)."
        ),
    ] = "",
    upload: UploadOpt = "",
    token: TokenOpt = "",
) -> None:
    """Check Kubernetes objects against the built-in policies and Gatekeeper constraints."""
    from seawall.policy.engine import PolicyEngine
    from seawall.report.findings import (
        fails_at,
        findings_table,
        findings_to_sarif,
        findings_to_text,
    )

    threshold = parse_threshold(fail_on)
    live = cluster or kubeconfig is not None or context is not None
    if live == bool(paths):
        raise InputError(
            "give manifest paths or a cluster (--kubeconfig/--context/--cluster), not both"
            if live
            else "nothing to scan",
            hint="e.g. seawall k8s scan deploy/ or helm template . | seawall k8s scan -",
        )
    engine = build_engine(config, policy, scan_results, not no_builtin)
    assert isinstance(engine, PolicyEngine)
    enveloped = format is FindingsFormat.json or bool(upload)
    cluster_name = name or _default_name(paths, context)
    uid = ""
    if live:
        from seawall.policy.cluster import cluster_identity, list_cluster
        from seawall.policy.kubeversion import cluster_version_findings

        objects = list(list_cluster(kubeconfig, context, include_owned, wanted=engine.cares_about))
        identity = cluster_identity(kubeconfig, context)
        uid = identity.uid
        findings = engine.findings(objects, passes=enveloped)
        findings += cluster_version_findings(identity.version, cluster_name)
    else:
        from seawall.policy.manifests import load_manifests

        objects = load_manifests(paths or [])
        findings = engine.findings(objects, passes=enveloped)
    envelope = None
    if enveloped:
        from seawall.report.envelope.kubernetes import cluster_asset, k8s_envelope

        asset = cluster_asset(cluster_name, uid)
        envelope = k8s_envelope(asset, objects, findings, threshold)
    problems = [f for f in findings if f.status is not Status.PASS]
    title = f"Kubernetes posture: {len(objects)} objects"
    renderable = None
    if envelope is not None and format is FindingsFormat.json:
        from seawall.contract import encode_pretty

        text = encode_pretty(envelope)
    elif format is FindingsFormat.sarif:
        text = findings_to_sarif(problems)
    else:
        renderable = findings_table(problems, title, group=lambda f: f.resource.label)
        text = findings_to_text(renderable)
    emit(text, output, renderable)
    if envelope is not None:
        send(envelope, upload, token)
    if fails_at(findings, threshold):
        raise typer.Exit(1)


def _default_name(paths: list[str] | None, context: str | None) -> str:
    """The kubeconfig context, else the directory of the first manifest path."""
    if context or not paths:
        return context or "cluster"
    first = Path(paths[0])
    if paths[0] == "-":
        return "stdin"
    directory = first if first.is_dir() else first.parent
    return directory.resolve().name or "manifests"
