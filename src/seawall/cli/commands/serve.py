"""``seawall serve``: the center (API and dashboard) on the embedded default or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seawall.cli.output import stderr

DataDirOpt = Annotated[
    Path | None,
    typer.Option(help="Where the center keeps its data (default: ~/.local/share/seawall)."),
]
DatabaseOpt = Annotated[
    str,
    typer.Option(
        "--database",
        envvar="SEAWALL_DATABASE",
        help="postgresql://user@host/db for production (default: SQLite in --data-dir).",
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``seawall serve``."""
    app.command()(serve)


BrokerOpt = Annotated[
    str,
    typer.Option(
        "--broker",
        envvar="SEAWALL_BROKER",
        metavar="URL",
        help="amqp://user:password@host:5672// : image scans and other jobs run on "
        "`seawall worker` processes over RabbitMQ (default: in this process).",
    ),
]
LeaseOpt = Annotated[
    float,
    typer.Option(
        "--job-lease",
        envvar="SEAWALL_JOB_LEASE",
        min=1.0,
        help="Seconds without a heartbeat after which a job is taken back from its worker.",
    ),
]
AdvisoryDbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Advisory database to match with (default: $SEAWALL_DB or "
        "~/.cache/seawall/db/advisories.db).",
    ),
]


def center_config(
    data_dir: Path | None,
    database: str,
    db: Path | None = None,
    broker: str = "",
    job_lease: float = 60.0,
) -> object:
    """The center's configuration from the options ``serve``, ``worker`` and ``admin``
    share."""
    from seawall.center.config import CenterConfig, default_data_dir
    from seawall.vulndb.store import default_db_path

    return CenterConfig(
        data_dir=data_dir or default_data_dir(),
        database_url=database,
        advisory_db=db or default_db_path(),
        broker_url=broker,
        lease_seconds=job_lease,
    )


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = "",
    db: AdvisoryDbOpt = None,
    broker: BrokerOpt = "",
    job_lease: LeaseOpt = 60.0,
    tls_cert: Annotated[
        Path | None, typer.Option(help="Serve HTTPS with this certificate.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="The certificate's private key.")] = None,
) -> None:
    """Run the Seawall center: API at /api/v1, dashboard at /."""
    import uvicorn

    from seawall.center.app import create_app
    from seawall.center.config import CenterConfig
    from seawall.center.slowclients import SlowClientTimeout
    from seawall.errors import InputError

    if (tls_cert is None) != (tls_key is None):
        raise InputError("--tls-cert and --tls-key go together")
    config = center_config(data_dir, database, db, broker, job_lease)
    assert isinstance(config, CenterConfig)
    app = create_app(config)
    scheme = "https" if tls_cert else "http"
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    stderr.print(
        f"Seawall center on {scheme}://{shown}:{port} (database: "
        f"{'SQLite in ' + str(config.data_dir) if config.is_sqlite else 'PostgreSQL'}; "
        f"advisories: {config.advisory_db})",
        highlight=False,
        soft_wrap=True,
    )
    uvicorn.run(
        app,
        http=SlowClientTimeout,  # a deadline for each request's headers (slowloris)
        host=host,
        port=port,
        log_level="warning",
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        proxy_headers=True,
        timeout_keep_alive=5,
        limit_concurrency=200,
    )
