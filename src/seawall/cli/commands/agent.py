"""``seawall agent``: report a Docker host to a center, continuously (docs/agent.md)."""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import Annotated

import typer

from seawall.errors import InputError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def register(app: typer.Typer) -> None:
    """Add ``seawall agent`` to the application."""
    app.command()(agent)


def parse_interval(text: str) -> float:
    """``90s``, ``15m``, ``1h``, ``1d`` or plain seconds -> seconds (at least one)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
    if match is None:
        raise InputError(f"--interval {text!r}: not a duration", hint="e.g. 30s, 15m, 1h, 1d")
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds < 1:
        raise InputError(f"--interval {text!r}: at least one second")
    return seconds


def default_spool() -> Path:
    import os

    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "seawall" / "agent-spool"


class NodeAudit(enum.StrEnum):
    auto = "auto"
    on = "on"
    off = "off"


def agent(
    center: Annotated[
        str,
        typer.Option(
            "--center",
            metavar="URL",
            envvar="SEAWALL_CENTER",
            show_envvar=True,
            help="The Seawall center to report to (e.g. http://center:8080).",
        ),
    ],
    token: Annotated[
        str,
        typer.Option(
            "--token",
            envvar="SEAWALL_TOKEN",
            show_envvar=True,
            help="API token (contributor role or above).",
        ),
    ] = "",
    interval: Annotated[str, typer.Option(help="Time between rounds: 30s, 15m, 1h, 1d.")] = "1h",
    once: Annotated[
        bool, typer.Option("--once", help="Run one round and exit (no event watching).")
    ] = False,
    spool: Annotated[
        Path | None,
        typer.Option(
            help="Where undelivered results wait (default: ~/.local/state/seawall/agent-spool)."
        ),
    ] = None,
    spool_max_mb: Annotated[
        float, typer.Option(help="Spool size bound in MiB; the oldest are dropped beyond it.")
    ] = 256.0,
    spool_max_files: Annotated[
        int, typer.Option(help="Spool bound in files; the oldest are dropped beyond it.")
    ] = 10_000,
    name: Annotated[
        str, typer.Option(help="The host's name in the center (default: the engine's name).")
    ] = "",
    docker_host: Annotated[
        str,
        typer.Option(help="Docker Engine endpoint (default: $DOCKER_HOST or the local socket)."),
    ] = "",
    root: Annotated[
        Path, typer.Option(help="Where the host's filesystem is mounted (e.g. /host).")
    ] = Path("/"),
    cache_dir: Annotated[
        Path | None, typer.Option(help="Layer cache directory (default: ~/.cache/seawall).")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write the layer cache.")
    ] = False,
    events: Annotated[
        bool,
        typer.Option("--events/--no-events", help="Watch Docker events for run-time alerts."),
    ] = True,
    images: Annotated[
        bool,
        typer.Option("--images/--no-images", help="Inventory the images of running containers."),
    ] = True,
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", "-r", help="Extra run-time rule file (YAML); repeatable."),
    ] = None,
    node_audit: Annotated[
        NodeAudit,
        typer.Option(
            help="CIS Kubernetes node audit each round: auto (when the host is a Kubernetes "
            "node), on, off."
        ),
    ] = NodeAudit.auto,
    cluster: Annotated[
        str, typer.Option(help="The Kubernetes cluster this node belongs to (its name).")
    ] = "",
    kubeconfig: Annotated[
        Path | None,
        typer.Option(help="Cluster mode: report the cluster of this kubeconfig, not Docker."),
    ] = None,
    context: Annotated[str | None, typer.Option(help="kubeconfig context to use.")] = None,
    in_cluster: Annotated[
        bool,
        typer.Option("--in-cluster", help="Cluster mode, in a pod: its service account."),
    ] = False,
    audit_webhook: Annotated[
        str,
        typer.Option(help="Cluster mode: receive the API server's audit webhook on HOST:PORT."),
    ] = "",
    tls_cert: Annotated[
        Path | None, typer.Option(help="TLS certificate for the audit webhook.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS key for the audit webhook.")] = None,
) -> None:
    """Report this Docker host to a center: CIS audit and image inventories every
    --interval, run-time alerts from Docker events as they happen; a spool keeps what the
    center cannot take yet. With --kubeconfig or --in-cluster, a cluster instead: its
    workload and RBAC posture every --interval, alerts from its audit webhook."""
    import logging
    import signal

    from seawall.agent.run import Agent, AgentConfig
    from seawall.inventory.cache import default_cache_dir
    from seawall.upload import ingest_url

    if not token:
        raise InputError("seawall agent needs a token", hint="pass --token or set $SEAWALL_TOKEN")
    ingest_url(center)  # a bad URL is a usage error now
    if spool_max_mb <= 0 or spool_max_files < 1:
        raise InputError("--spool-max-mb and --spool-max-files must be positive")
    if kubeconfig is not None and in_cluster:
        raise InputError("give --kubeconfig or --in-cluster, not both")
    if audit_webhook and kubeconfig is None and not in_cluster:
        raise InputError("--audit-webhook is for cluster mode", hint="add --kubeconfig")
    if not root.is_dir():
        raise InputError(f"--root {root} is not a directory")
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
    )
    config = AgentConfig(
        center=center,
        token=token,
        spool_dir=spool or default_spool(),
        interval=parse_interval(interval),
        once=once,
        spool_max_bytes=int(spool_max_mb * (1 << 20)),
        spool_max_files=spool_max_files,
        name=name,
        docker_host=docker_host,
        root=root,
        cache_dir=None if no_cache else (cache_dir or default_cache_dir()),
        events=events,
        images=images,
        rules=list(rules or []),
        node_audit=node_audit.value,
        cluster=cluster,
        kubeconfig=kubeconfig,
        context=context,
        in_cluster=in_cluster,
        audit_webhook=audit_webhook,
        tls_cert=tls_cert,
        tls_key=tls_key,
    )
    try:
        runner = Agent(config)
    except OSError as exc:
        raise InputError(f"--spool {config.spool_dir}: {exc.strerror or exc}") from None

    def stop(signum: int, _frame: object) -> None:
        logging.getLogger("seawall.agent").info(
            "%s: finishing the upload in flight, then stopping", signal.Signals(signum).name
        )
        runner.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.run()
