"""``seawall worker``: run the center's jobs (image scans, listings) on this machine, taken
from RabbitMQ; start as many as the work needs, on as many machines."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from seawall.cli.commands.serve import (
    AdvisoryDbOpt,
    BrokerOpt,
    DatabaseOpt,
    DataDirOpt,
    LeaseOpt,
    center_config,
)
from seawall.cli.output import stderr
from seawall.errors import InputError


def register(app: typer.Typer) -> None:
    """Add ``seawall worker``."""
    app.command()(worker)


def worker(
    broker: BrokerOpt = "",
    database: DatabaseOpt = "",
    data_dir: DataDirOpt = None,
    db: AdvisoryDbOpt = None,
    job_lease: LeaseOpt = 60.0,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Jobs run at once by this worker.")
    ] = 2,
    name: Annotated[str, typer.Option(help="This worker's name in job states.")] = "",
    nice: Annotated[
        int,
        typer.Option(
            min=0,
            max=19,
            help="Lower this worker's CPU priority by this much: on a machine it shares with "
            "seawall serve, the API's requests go first (0 keeps it).",
        ),
    ] = 10,
) -> None:
    """Run jobs of a center that was started with the same --broker and --database."""
    from seawall.center.config import CenterConfig
    from seawall.center.jobs.distributed import QUEUE, worker_app
    from seawall.center.jobs.handlers import HANDLERS
    from seawall.center.jobs.runner import policy_of
    from seawall.center.runtime import Center
    from seawall.center.store.database import connect, migrate, sessions

    if not broker:
        raise InputError("seawall worker needs --broker", hint="e.g. amqp://guest:guest@host//")
    if nice:
        os.nice(nice)  # jobs are background work: an upload waiting on a busy CPU is not
    config = center_config(data_dir, database, db, broker, job_lease)
    assert isinstance(config, CenterConfig)
    engine = connect(config.url)
    migrate(engine)
    center = Center(config=config, engine=engine, sessions=sessions(engine))
    label = name or f"worker:{os.uname().nodename}:{os.getpid()}"
    app = worker_app(center, HANDLERS, policy_of(center), label)
    stderr.print(f"Seawall worker {label}: jobs from {_safe(broker)}", highlight=False)
    try:
        app.worker_main(
            ["worker", "--queues", QUEUE, "--concurrency", str(concurrency), "--pool",
             "threads", "--loglevel", "WARNING", "--hostname", f"{label}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat"]
        )  # fmt: skip
    finally:
        center.close()


def _safe(url: str) -> str:
    """The broker URL without its password."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}://{credentials.split(':')[0]}:***@{host}" if at else url
