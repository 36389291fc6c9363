"""``seawall registry add|list|scan``: watch a registry from a center (scan on push), over
the center's API with an API token, like any other client."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from seawall.cli.output import stderr
from seawall.errors import EnvironmentFailure, InputError

registry_app = typer.Typer(help="Registries a Seawall center watches.", no_args_is_help=True)

CenterOpt = Annotated[
    str,
    typer.Option(
        "--center", envvar="SEAWALL_CENTER", show_envvar=True, metavar="URL",
        help="The center (e.g. http://127.0.0.1:8080).",
    ),
]  # fmt: skip
TokenOpt = Annotated[
    str,
    typer.Option(
        "--token", envvar="SEAWALL_TOKEN", show_envvar=True,
        help="API token (owner to add; reader to list; contributor to scan).",
    ),
]  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``seawall registry``."""
    registry_app.command("add", no_args_is_help=True)(add)
    registry_app.command("list")(list_registries)
    registry_app.command("scan", no_args_is_help=True)(scan)
    app.add_typer(registry_app, name="registry")


def _call(method: str, center: str, token: str, path: str, body: Any = None) -> Any:
    import httpx

    if not center.startswith(("http://", "https://")):
        raise InputError(f"--center {center!r} is not an http(s) URL")
    if not token:
        raise InputError("a token is needed", hint="pass --token or set $SEAWALL_TOKEN")
    try:
        response = httpx.request(
            method, center.rstrip("/") + "/api/v1" + path, json=body, timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
    except httpx.HTTPError as exc:
        raise EnvironmentFailure(f"cannot reach the center at {center}: {exc}") from None
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text[:200]
        raise EnvironmentFailure(f"the center refused: HTTP {response.status_code}: {detail}")
    return response.json()


def add(
    url: Annotated[str, typer.Argument(help="The registry, e.g. https://registry.example:5000.")],
    center: CenterOpt = "",
    token: TokenOpt = "",
    username: Annotated[str, typer.Option(help="Account the center pulls with.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read that account's password from stdin.")
    ] = False,
    notify_url: Annotated[
        str,
        typer.Option(
            "--notify-url",
            metavar="URL",
            help="The center's address as the registry reaches it (default: --center).",
        ),
    ] = "",
) -> None:
    """Watch a registry; print the notifications: block for its config.yml (stdout)."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else ""
    added = _call(
        "POST", center, token, "/registries",
        {"url": url, "username": username, "password": password,
         "center_url": notify_url or center},
    )  # fmt: skip
    sys.stdout.write(added["notifications"])
    stderr.print(
        f"watching {added['name']} (registry {added['id']}); paste the block above into the "
        "registry's config.yml and restart it: pushes will be scanned as they arrive. The "
        "secret in it is shown only once.",
        highlight=False, soft_wrap=True,
    )  # fmt: skip


def list_registries(center: CenterOpt = "", token: TokenOpt = "") -> None:
    """The registries the center watches."""
    for row in _call("GET", center, token, "/registries"):
        last = row["last_event_at"] or "no event yet"
        sys.stdout.write(f"{row['id']}\t{row['name']}\t{row['images']} images\t{last}\n")


def scan(
    registry_id: Annotated[int, typer.Argument(help="The registry's id (see `registry list`).")],
    image: Annotated[str, typer.Argument(help="repository[:tag] or repository@digest.")],
    center: CenterOpt = "",
    token: TokenOpt = "",
) -> None:
    """Scan an image of a watched registry now (before scheduled work); prints the job id."""
    job = _call("POST", center, token, f"/registries/{registry_id}/scan", {"image": image})
    sys.stdout.write(f"{job['id']}\n")
    stderr.print(f"queued: {job['title']} (job {job['id']}, {job['state']})", highlight=False)
