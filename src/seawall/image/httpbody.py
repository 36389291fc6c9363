"""Reading an HTTP response body against a size cap, as it arrives, compressed or not.

A registry's answer (a manifest, a config, a token) is kilobytes; a hostile or broken one may
be endless, or a small gzip ``Content-Encoding`` body that inflates to gigabytes. The body is
read in pieces from the raw stream and decoded here with a bound on every step's output, so
no more than the cap (plus one read) is ever held. Only ``gzip`` and ``deflate`` are asked
for (:data:`ACCEPT_ENCODING`) and accepted.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import httpx

from seawall.errors import RegistryError, UnsafeInputError

ACCEPT_ENCODING = "gzip, deflate"
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def read_capped(response: httpx.Response, limit: int, what: str) -> bytes:
    """The decoded body of the streamed ``response``; UnsafeInputError past ``limit`` bytes
    (declared or received, before or after decoding)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise UnsafeInputError(f"{what}: {declared} bytes; refusing more than {limit}")
    parts: list[bytes] = []
    total = 0
    try:
        for piece in _decoded(response, limit + 1, what):
            total += len(piece)
            if total > limit:
                raise UnsafeInputError(f"{what}: more than {limit} bytes; refusing")
            parts.append(piece)
    except httpx.HTTPError as exc:
        raise RegistryError(f"{what}: download failed: {exc}") from None
    except zlib.error as exc:
        raise RegistryError(f"{what}: cannot decode the answer: {exc}") from None
    return b"".join(parts)


def _decoded(response: httpx.Response, room: int, what: str) -> Iterator[bytes]:
    """The body's bytes after its Content-Encoding, never more than ``room`` in total."""
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        yield from response.iter_raw()
        return
    if encoding not in _WBITS:
        raise RegistryError(f"{what}: unsupported Content-Encoding {encoding[:40]!r}")
    decoder = zlib.decompressobj(_WBITS[encoding])
    for raw in response.iter_raw():
        pending = raw
        while pending and room > 0:
            piece = decoder.decompress(pending, room)
            room -= len(piece)
            pending = decoder.unconsumed_tail
            yield piece
        if room <= 0:
            return
