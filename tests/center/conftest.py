"""A real center for every test, on SQLite and on the PostgreSQL these machines run
(127.0.0.1:5432, trust auth): each test gets its own database, migrated by Alembic as
``seawall serve`` does, and clients holding real tokens of each role.

``SEAWALL_TEST_POSTGRES`` overrides the server URL (``postgresql://postgres@127.0.0.1:5432``).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pg8000.native
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from seawall.center.accounts import create_token, create_user
from seawall.center.app import create_app
from seawall.center.config import CenterConfig
from tests.support.advisorydb import demo_database

POSTGRES = os.environ.get("SEAWALL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
PASSWORD = "correct horse battery staple"
BACKENDS = ("sqlite", "postgres")


def _server() -> tuple[str, str, int]:
    rest = POSTGRES.split("://", 1)[1]
    user, _, hostport = rest.rpartition("@")
    host, _, port = hostport.partition(":")
    return user or "postgres", host, int(port or 5432)


def _postgres(statement: str) -> None:
    user, host, port = _server()
    connection = pg8000.native.Connection(user, host=host, port=port, database="postgres")
    try:
        connection.run(statement)
    finally:
        connection.close()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on the test's backend (``backend`` parameter)."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'center.db'}"
        return
    name = f"seawall_test_{uuid.uuid4().hex[:12]}"
    _postgres(f'CREATE DATABASE "{name}"')
    user, host, port = _server()
    try:
        yield f"postgresql+pg8000://{user}@{host}:{port}/{name}"
    finally:
        _postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def advisory_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo image's advisories (tests/support/advisorydb.py), as a real store."""
    return demo_database(tmp_path_factory.mktemp("advisories"))


@dataclass
class Center:
    """A running center with a client factory: ``client("owner")``, ``client("reader",
    scope=["host:web-01"])``; ``tokens`` keeps the token values by name."""

    app: FastAPI
    config: CenterConfig
    tokens: dict[str, str] = field(default_factory=dict)
    _clients: list[TestClient] = field(default_factory=list)

    def token(self, role: str, scope: list[str] | None = None, name: str = "") -> str:
        name = name or f"{role}-{len(self.tokens)}"
        with self.app.state.center.sessions() as session, session.begin():
            _, value = create_token(
                session, name, role, scope or [], None, "tests", dt.datetime.now(dt.UTC)
            )
        self.tokens[name] = value
        return value

    def client(self, role: str = "owner", scope: list[str] | None = None) -> TestClient:
        client = TestClient(self.app, raise_server_exceptions=False)
        client.__enter__()
        client.headers["Authorization"] = f"Bearer {self.token(role, scope)}"
        self._clients.append(client)
        return client

    def anonymous(self) -> TestClient:
        client = TestClient(self.app, raise_server_exceptions=False)
        client.__enter__()
        self._clients.append(client)
        return client

    def user(self, name: str, role: str, scope: list[str] | None = None) -> None:
        with self.app.state.center.sessions() as session, session.begin():
            create_user(session, name, PASSWORD, role, scope or [], dt.datetime.now(dt.UTC))

    def close(self) -> None:
        for client in self._clients:
            client.__exit__(None, None, None)


MakeCenter = Callable[..., Center]


@pytest.fixture
def make_center(database_url: str, advisory_db: Path, tmp_path: Path) -> Iterator[MakeCenter]:
    made: list[Center] = []

    def make(*, background: bool = False, **settings: object) -> Center:
        options: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "advisory_db": advisory_db,
            "match_interval_seconds": 0.2,
            **settings,
        }
        config = CenterConfig(**options)  # type: ignore[arg-type]
        center = Center(create_app(config, background=background), config)
        made.append(center)
        return center

    yield make
    for center in made:
        center.close()
        center.app.state.center.engine.dispose()


@pytest.fixture
def center(make_center: MakeCenter) -> Center:
    return make_center()


def both_backends(test: Callable[..., object]) -> Callable[..., object]:
    """Run ``test`` on SQLite and on PostgreSQL (the ``database_url`` fixture's param)."""
    return pytest.mark.parametrize(
        "database_url",
        [pytest.param("sqlite", id="sqlite"),
         pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)],
        indirect=True,
    )(test)  # fmt: skip
