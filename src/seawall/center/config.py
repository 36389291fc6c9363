"""How a center is set up: where its data lives, which database and advisory database it
uses, and the limits it enforces. Built once from the command line (``seawall serve``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from seawall.vulndb.store import default_db_path

DEFAULT_PORT = 8080


def default_data_dir() -> Path:
    """``$SEAWALL_DATA_DIR``, else ``$XDG_DATA_HOME/seawall`` (``~/.local/share/seawall``)."""
    env = os.environ.get("SEAWALL_DATA_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "seawall"


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'seawall.db'}"


def normalise_database_url(url: str) -> str:
    """``postgresql://...`` -> ``postgresql+pg8000://...``: pg8000 (BSD) is the driver
    Seawall ships with; psycopg is LGPL."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+pg8000://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class CenterConfig:
    """Everything the application factory needs."""

    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str = ""  # default: SQLite in data_dir
    advisory_db: Path = field(default_factory=default_db_path)
    max_body_bytes: int = 64 * 1024 * 1024  # an upload (inventory of a large image: ~10 MB)
    session_hours: float = 12.0
    secure_cookies: bool | None = None  # None: when the request came over https
    background: bool = True  # run jobs (re-matching, score history) in-process
    login_attempts: int = 5  # failures per user or address before a lock-out
    login_lockout_seconds: float = 300.0
    match_interval_seconds: float = 60.0  # how often the advisory database is checked
    job_threads: int = 2  # jobs (image scans, listings) run at once in this process; 0: none
    scan_workers: int = 2  # processes reading large layers for those jobs
    lease_seconds: float = 60.0  # a job whose worker was silent this long is taken back
    scheduled_cap: int = 1  # scheduled jobs (rescans, listings) running at once, per center
    broker_url: str = ""  # amqp://...: jobs go to `seawall worker` processes over Celery

    @property
    def url(self) -> str:
        return normalise_database_url(self.database_url) or sqlite_url(self.data_dir)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")
