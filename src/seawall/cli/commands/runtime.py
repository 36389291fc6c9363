"""``seawall runtime``: run-time threat detection (watch, replay, simulate, rules)."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer

from seawall.cli.options import OutputOpt
from seawall.cli.output import emit, stderr
from seawall.cli.upload import TokenOpt, UploadOpt, send
from seawall.contract import encode_pretty

runtime_app = typer.Typer(
    help="Run-time threat detection from Kubernetes audit logs, Docker events and auditd.",
    no_args_is_help=True,
)


class AlertFormat(enum.StrEnum):
    table = "table"
    json = "json"


RulesOpt = Annotated[
    list[Path] | None,
    typer.Option("--rules", "-r", help="Extra rule file (YAML); repeat for several."),
]
IntelOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--intel",
        help="Threat intel list as CATEGORY=FILE (tor, proxy, malicious, mining-pools); "
        "text, abuse.ch CSV or STIX 2.1. A bare FILE is 'malicious'.",
    ),
]
WindowOpt = Annotated[
    float, typer.Option(help="Fold repeats of a rule on a resource within SECONDS.")
]
ClusterOpt = Annotated[str, typer.Option(help="Cluster name put on Kubernetes alerts.")]


def register(app: typer.Typer) -> None:
    """Add ``seawall runtime`` to the application."""
    runtime_app.command(no_args_is_help=True)(replay)
    runtime_app.command()(watch)
    runtime_app.command()(simulate)
    runtime_app.command("rules")(list_rules)
    app.add_typer(runtime_app, name="runtime")


def _context(cluster: str) -> dict[str, dict[str, str]]:
    from seawall.runtime.options import detection_context

    return detection_context(cluster)


def replay(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Event files: audit JSON lines or EventList, Docker event dumps, auditd logs."
        ),
    ],
    format: Annotated[
        AlertFormat, typer.Option("--format", "-f", help="Output format.")
    ] = AlertFormat.table,
    output: OutputOpt = None,
    rules: RulesOpt = None,
    intel: IntelOpt = None,
    fold_window: WindowOpt = 60.0,
    cluster: ClusterOpt = "",
    upload: UploadOpt = "",
    token: TokenOpt = "",
) -> None:
    """Evaluate recorded events from start to end and print the alerts (exit 1 if any)."""
    from seawall.report.envelope.runtime import alerts_envelope, sensor_asset
    from seawall.runtime.alerts import AlertFolder, Detector, alerts_table
    from seawall.runtime.badinput import BadInput
    from seawall.runtime.options import load_detection
    from seawall.runtime.replay import replay as run_replay

    ruleset = load_detection(rules or [], intel or [])
    bad = BadInput(announce=False)  # summarized below, with the first of each kind
    detector = Detector(ruleset, AlertFolder(fold_window), _context(cluster))
    alerts = run_replay(files, detector, bad)
    envelope = alerts_envelope(sensor_asset(cluster), alerts)
    if format is AlertFormat.json:
        text = encode_pretty(envelope)
    else:
        text = alerts_table(alerts) if alerts else "no alerts"
    emit(text, output)
    send(envelope, upload, token)
    note = f"{detector.events} events, {len(alerts)} alerts"
    if bad.total():
        note += f"; skipped: {bad.summary(details=True)}"
    stderr.print(note, highlight=False, soft_wrap=True)
    if alerts:
        raise typer.Exit(1)


def watch(
    audit_log: Annotated[
        list[Path] | None, typer.Option(help="Kubernetes audit log file to follow (JSON lines).")
    ] = None,
    audit_webhook: Annotated[
        str, typer.Option(help="Listen for the API server's audit webhook on HOST:PORT.")
    ] = "",
    tls_cert: Annotated[
        Path | None, typer.Option(help="TLS certificate for the audit webhook.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS key for the audit webhook.")] = None,
    docker: Annotated[
        bool | None,
        typer.Option(
            "--docker/--no-docker",
            help="Watch Docker Engine events (default: when the engine answers).",
        ),
    ] = None,
    docker_host: Annotated[
        str,
        typer.Option(help="Docker Engine endpoint (default: $DOCKER_HOST or the local socket)."),
    ] = "",
    auditd_log: Annotated[
        list[Path] | None,
        typer.Option(help="auditd log to follow (default /var/log/audit/audit.log when readable)."),
    ] = None,
    rules: RulesOpt = None,
    intel: IntelOpt = None,
    output: OutputOpt = None,
    record_docker: Annotated[
        Path | None,
        typer.Option(help="Append the enriched Docker events to FILE (replayable JSON lines)."),
    ] = None,
    webhook: Annotated[
        list[str] | None, typer.Option(help="POST each alert as JSON to URL.")
    ] = None,
    fold_window: WindowOpt = 60.0,
    cluster: ClusterOpt = "",
    duration: Annotated[
        float, typer.Option(help="Stop after SECONDS (0: until interrupted).")
    ] = 0.0,
    upload: UploadOpt = "",
    token: TokenOpt = "",
) -> None:
    """Watch live sources and write alerts as JSON lines (stdout, -o FILE, --webhook URL)."""
    from seawall.report.envelope.runtime import sensor_asset
    from seawall.runtime.options import load_detection
    from seawall.runtime.watch import WatchConfig, run_watch

    ruleset = load_detection(rules or [], intel or [])
    config = WatchConfig(
        audit_logs=list(audit_log or []),
        audit_webhook=audit_webhook,
        tls_cert=tls_cert,
        tls_key=tls_key,
        docker=docker,
        docker_host=docker_host,
        auditd_logs=auditd_log,
        output=output,
        record_docker=record_docker,
        webhooks=list(webhook or []),
        fold_window=fold_window,
        context=_context(cluster),
        duration=duration,
        upload=upload,
        token=token,
        asset=sensor_asset(cluster),
    )
    run_watch(ruleset, config, log=lambda text: stderr.print(text, highlight=False, soft_wrap=True))


def simulate(
    docker_host: Annotated[
        str,
        typer.Option(help="Docker Engine endpoint (default: $DOCKER_HOST or the local socket)."),
    ] = "",
    image: Annotated[
        str, typer.Option(help="A local image with /bin/sh (busybox works); nothing is pulled.")
    ] = "busybox:latest",
    format: Annotated[
        AlertFormat, typer.Option("--format", "-f", help="Output format.")
    ] = AlertFormat.table,
    output: OutputOpt = None,
    no_docker: Annotated[
        bool, typer.Option("--no-docker", help="Only the synthetic audit and auditd events.")
    ] = False,
) -> None:
    """Trigger each alert family harmlessly and show the alerts the pipeline raised."""
    from seawall.report.envelope.runtime import alerts_envelope, sensor_asset
    from seawall.runtime.alerts import alerts_table
    from seawall.runtime.simulate import run_simulation

    alerts, families = run_simulation(docker_host, image, with_docker=not no_docker)
    text = (
        encode_pretty(alerts_envelope(sensor_asset(), alerts))
        if format is AlertFormat.json
        else alerts_table(alerts)
    )
    emit(text, output)
    missing = [name for name, fired in families.items() if not fired]
    stderr.print(
        f"{len(alerts)} alerts; families: "
        + ", ".join(f"{n} {'ok' if fired else 'MISSING'}" for n, fired in families.items()),
        highlight=False,
        soft_wrap=True,
    )
    if missing:
        raise typer.Exit(1)


def list_rules(
    rules: RulesOpt = None,
    format: Annotated[
        AlertFormat, typer.Option("--format", "-f", help="Output format.")
    ] = AlertFormat.table,
) -> None:
    """List the loaded rules (built-in plus --rules files) with source, severity and tactic."""
    import msgspec

    from seawall.runtime.rules.loader import load_rules

    ruleset = load_rules(rules or [])
    if format is AlertFormat.json:
        records = [
            {"id": r.rule.id, "source": r.source, "title": r.rule.title,
             "severity": r.rule.severity.name.lower(), "tactic": r.tactic,
             "technique": r.technique, "mappings": r.rule.mappings}
            for r in ruleset.rules.values()
        ]  # fmt: skip
        sys.stdout.write(msgspec.json.encode(records).decode() + "\n")
        return
    for r in ruleset.rules.values():
        sys.stdout.write(
            f"{r.rule.id:40} {r.source:10} {r.rule.severity.name.lower():8} "
            f"{r.tactic:20} {r.rule.title}\n"
        )
