"""``seawall k8s node-audit`` (registered by the ``k8s`` group): the CIS Kubernetes Benchmark
on a node, sections 1-4."""

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

if TYPE_CHECKING:
    from rich.console import Group

    from seawall.hardening.kubernetes.audit import NodeAudit
    from seawall.model import Severity

BENCHMARKS = ("cis-1.12",)


class NodeFormat(enum.StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"
    junit = "junit"


class RoleChoice(enum.StrEnum):
    auto = "auto"
    control_plane = "control-plane"
    node = "node"


def node_audit(
    root: Annotated[
        Path, typer.Option(help="Where the node's filesystem is (a mounted disk, or /host).")
    ] = Path("/"),
    role: Annotated[
        RoleChoice,
        typer.Option(help="Assess as a control-plane node or a worker (auto: what runs)."),
    ] = RoleChoice.auto,
    benchmark: Annotated[
        str, typer.Option(help=f"Benchmark version: {', '.join(BENCHMARKS)}.")
    ] = BENCHMARKS[-1],
    cluster: Annotated[
        str, typer.Option(help="The cluster's name, for the center (groups nodes).")
    ] = "",
    checks: ChecksOpt = None,
    skip: SkipOpt = None,
    format: Annotated[
        NodeFormat, typer.Option("--format", "-f", help="Output format.")
    ] = NodeFormat.table,
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    upload: UploadOpt = "",
    token: TokenOpt = "",
) -> None:
    """Assess a Kubernetes node (control plane, etcd, kubelet, kube-proxy, their files)
    against the CIS Kubernetes Benchmark; kubeadm, k3s, RKE2, EKS, GKE and AKS layouts."""
    from seawall.hardening.kubernetes.audit import NodeAuditOptions, audit_node
    from seawall.hardening.kubernetes.collect import NodeOptions
    from seawall.hardening.kubernetes.facts import Role
    from seawall.report.findings import fails_at

    threshold = parse_threshold(fail_on)
    if benchmark not in BENCHMARKS:
        raise InputError(f"--benchmark {benchmark!r} is not known",
                         hint=f"use {', '.join(BENCHMARKS)}")  # fmt: skip
    if not root.is_dir():
        raise InputError(f"--root {root} is not a directory")
    result = audit_node(
        NodeAuditOptions(
            node=NodeOptions(root=root, role=Role(role.value)),
            checks=split_values(checks),
            skip=split_values(skip),
        )
    )
    text, renderable = _render(result, format, threshold, cluster)
    emit(text, output, renderable)
    if upload and result.assessed:
        from seawall.report.envelope.node import node_envelope

        send(node_envelope(result, threshold, cluster), upload, token)
    if not result.assessed:
        raise EnvironmentFailure(
            "nothing could be assessed on this node", hint="check --root and --role"
        )
    if fails_at(result.findings, threshold):
        raise typer.Exit(1)


def _render(
    result: NodeAudit, format: NodeFormat, threshold: Severity | None, cluster: str
) -> tuple[str, Group | None]:
    from seawall.hardening.kubernetes.audit import BENCHMARK
    from seawall.report import findings as writers

    if format is NodeFormat.json:
        from seawall.contract import encode_pretty
        from seawall.report.envelope.node import node_envelope

        return encode_pretty(node_envelope(result, threshold, cluster)), None
    if format is NodeFormat.sarif:
        return writers.findings_to_sarif(result.findings), None
    if format is NodeFormat.junit:
        return writers.findings_to_junit(result.findings, BENCHMARK), None
    from seawall.report.benchmark import benchmark_view

    inventory = result.inventory
    about = [
        f"node: {inventory['name'] or '(no hostname)'} ({inventory['root']})",
        f"layout: {inventory['layout']} ({inventory['layout_evidence']})",
        f"role: {inventory['role']} ({inventory['role_evidence']})",
        *(f"{name}: {source}" for name, source in inventory["components"].items()),
        *(f"could not read {name}: {why}" for name, why in inventory["unreadable"].items()),
        *inventory["notes"],
    ]
    renderable = benchmark_view(result.findings, BENCHMARK, about, result.score)
    return writers.findings_to_text(renderable), renderable
