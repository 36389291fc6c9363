"""``seawall admin``: the first owner and API tokens, from the command line (the center has
no default password)."""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from seawall.cli.commands.serve import DatabaseOpt, DataDirOpt, center_config
from seawall.cli.output import stderr
from seawall.errors import InputError

admin_app = typer.Typer(help="Users and API tokens of a Seawall center.", no_args_is_help=True)

RoleOpt = Annotated[str, typer.Option(help="reader, contributor or owner.")]
ScopeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--scope",
        help="Limit to host:NAME, registry:HOST, cluster:NAME or namespace:CLUSTER/NS "
        "(repeatable; default: everything).",
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``seawall admin create-user|create-token``."""
    admin_app.command("create-user", no_args_is_help=True)(create_user)
    admin_app.command("create-token", no_args_is_help=True)(create_token)
    app.add_typer(admin_app, name="admin")


def _sessions(data_dir: Path | None, database: str):  # type: ignore[no-untyped-def]
    from seawall.center.config import CenterConfig
    from seawall.center.store.database import connect, migrate, sessions

    config = center_config(data_dir, database)
    assert isinstance(config, CenterConfig)
    engine = connect(config.url)
    migrate(engine)
    return sessions(engine)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError("no terminal to ask for the password", hint="use --password-stdin")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise InputError("the passwords differ")
    return first


def create_user(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: RoleOpt = "reader",
    scope: ScopeOpt = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = "",
) -> None:
    """Create a dashboard user (password from a prompt or --password-stdin)."""
    from seawall.center import audit
    from seawall.center.accounts import AccountError
    from seawall.center.accounts import create_user as create

    password = _password(password_stdin)
    factory = _sessions(data_dir, database)
    try:
        with factory() as session, session.begin():
            user = create(session, name, password, role, scope or [], dt.datetime.now(dt.UTC))
            audit.record(
                session, "cli", "user.create", f"user {user.name}", role=user.role, scope=user.scope
            )
    except AccountError as exc:
        raise InputError(str(exc)) from None
    stderr.print(f"created {user.role} {user.name}", highlight=False)


def create_token(
    name: Annotated[str, typer.Argument(help="What the token is for (e.g. ci-pipeline).")],
    role: RoleOpt = "contributor",
    scope: ScopeOpt = None,
    expires: Annotated[
        str, typer.Option(help="Lifetime such as 90d, 12h or 2w (default: no expiry).")
    ] = "",
    data_dir: DataDirOpt = None,
    database: DatabaseOpt = "",
) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    from seawall.center import audit
    from seawall.center.accounts import AccountError, parse_duration
    from seawall.center.accounts import create_token as create

    try:
        lifetime = parse_duration(expires) if expires else None
    except ValueError as exc:
        raise InputError(f"--expires: {exc}") from None
    factory = _sessions(data_dir, database)
    try:
        with factory() as session, session.begin():
            row, value = create(
                session, name, role, scope or [], lifetime, "cli", dt.datetime.now(dt.UTC)
            )
            audit.record(
                session,
                "cli",
                "token.create",
                f"token {row.name}",
                role=row.role,
                scope=row.scope,
                prefix=row.prefix,
            )
    except AccountError as exc:
        raise InputError(str(exc)) from None
    sys.stdout.write(value + "\n")
    until = f", expires {row.expires_at:%Y-%m-%d}" if row.expires_at else ""
    stderr.print(
        f"created {row.role} token {row.name}{until}; it is shown only once", highlight=False
    )
