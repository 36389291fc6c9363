"""``--upload URL`` and ``--token`` as every engine command takes them."""

from __future__ import annotations

from typing import Annotated

import typer

from seawall.cli.output import stderr
from seawall.contract import Envelope

UploadOpt = Annotated[
    str,
    typer.Option(
        "--upload",
        metavar="URL",
        help="Also send the result to a Seawall center (e.g. http://127.0.0.1:8080).",
    ),
]
TokenOpt = Annotated[
    str,
    typer.Option(
        "--token",
        envvar="SEAWALL_TOKEN",
        show_envvar=True,
        help="API token for --upload (contributor role or above).",
    ),
]


def send(envelope: Envelope, center: str, token: str) -> None:
    """Upload ``envelope`` when ``center`` is set, and say so on stderr."""
    if not center:
        return
    from seawall.upload import upload

    receipt = upload(envelope, center, token)
    note = " (already there)" if receipt.duplicate else ""
    stderr.print(
        f"uploaded {receipt.kind} of {receipt.asset} to {center}: scan {receipt.scan}{note}",
        highlight=False,
        soft_wrap=True,
    )
