"""Send a result envelope to a Seawall center: ``--upload URL`` of every engine command.

One POST of the envelope's JSON to ``URL/api/v1/ingest`` with the token as a bearer
credential. The body's sha256 goes along as the ``Idempotency-Key``, so sending the same
result twice stores it once. Only ``httpx`` is needed here: nothing of the center loads.
"""

from __future__ import annotations

import hashlib

import httpx
import msgspec

from seawall.contract import Envelope, encode
from seawall.errors import EnvironmentFailure, InputError

INGEST_PATH = "/api/v1/ingest"


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    """What the center answers to an upload."""

    scan: int
    kind: str
    asset: str
    duplicate: bool = False


def ingest_url(center: str) -> str:
    """``http://host:8080`` (or ``.../``) -> ``http://host:8080/api/v1/ingest``."""
    if not center.startswith(("http://", "https://")):
        raise InputError(
            f"--upload {center!r} is not an http(s) URL", hint="e.g. http://127.0.0.1:8080"
        )
    return center.rstrip("/") + INGEST_PATH


def upload(envelope: Envelope, center: str, token: str, timeout: float = 60.0) -> Receipt:
    """Post ``envelope``; EnvironmentFailure (exit 3) with one line when the center is
    unreachable or refuses it."""
    if not token:
        raise InputError("--upload needs a token", hint="pass --token or set $SEAWALL_TOKEN")
    url = ingest_url(center)
    body = encode(envelope)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": hashlib.sha256(body).hexdigest(),
    }
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise EnvironmentFailure(
            f"upload to {center} failed: {exc}", hint="is `seawall serve` running there?"
        ) from None
    if response.status_code >= 400:
        raise EnvironmentFailure(f"upload to {center} refused: {_reason(response)}")
    try:
        return msgspec.json.decode(response.content, type=Receipt)
    except msgspec.MsgspecError:
        raise EnvironmentFailure(f"upload to {center}: not a Seawall center's answer") from None


def _reason(response: httpx.Response) -> str:
    """``HTTP 403: the token's role may not ingest`` from the center's error body."""
    detail = ""
    try:
        document = response.json()
        if isinstance(document, dict):
            detail = str(document.get("detail") or "")
    except ValueError:
        pass
    return f"HTTP {response.status_code}" + (f": {detail[:300]}" if detail else "")
