"""On-disk cache of layer results, keyed by layer digest and the code that reads layers.

A layer's result depends only on its bytes (named by its digest) and on the code that reads
it, so a base layer shared by many images is read once. An entry is written only after the
layer's bytes were verified against that digest, and it records what the stored bytes and
the content hashed to (:class:`CachedLayer`), so a later read can check that the bytes it is
given are the ones the entry was made from before trusting it. The code is identified by hashing the
source of the layer reader and every analyzer: any change to them starts a fresh cache, with no
version number to forget to bump (and without importing the analyzers, which lets a scan start
reading and hashing layers while they load). Entries are written to a temporary
file and renamed into place, so a crash never leaves a half-written entry, and the temporary
file is removed whatever goes wrong; an entry that fails to decode is ignored and recomputed.
Entries are msgpack, except for a result holding file names that are not UTF-8 (kept as
surrogate escapes, which msgpack cannot hold): that one is ASCII JSON, whose ``\\udcXX``
escapes keep the raw bytes exactly.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import msgspec

from seawall import __version__
from seawall.image.manifest import SHA256_DIGEST
from seawall.inventory.layer import LayerResult
from seawall.safety.nesting import json_too_deep


class CachedLayer(msgspec.Struct, kw_only=True):
    """A layer result with the sha256 (hex) of the stored bytes and of the uncompressed
    content it was read from ('' when the content was not hashed)."""

    stored: str
    content: str = ""
    result: LayerResult


_decoder = msgspec.msgpack.Decoder(CachedLayer)
_encoder = msgspec.msgpack.Encoder()


def code_fingerprint() -> str:
    """sha256 of the Seawall version and the source of everything that shapes a LayerResult."""
    package = Path(__file__).resolve().parent.parent
    files = sorted(
        [
            *package.glob("inventory/*.py"),
            *package.glob("inventory/analyzers/*.py"),
            package / "image" / "tarreader.py",
        ]
    )
    digest = hashlib.sha256(__version__.encode())
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def default_cache_dir() -> Path:
    """``$SEAWALL_CACHE_DIR``, else ``$XDG_CACHE_HOME/seawall``, else ``~/.cache/seawall``."""
    explicit = os.environ.get("SEAWALL_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "seawall"


class LayerCache:
    """Layer results under ``root/layers/<code fingerprint>/``."""

    def __init__(self, root: Path, fingerprint: str) -> None:
        self.directory = root / "layers" / fingerprint[:16]

    def _path(self, digest: str) -> Path | None:
        if not SHA256_DIGEST.match(digest):
            return None
        return self.directory / f"{digest[7:]}.msgpack"

    def get(self, digest: str) -> CachedLayer | None:
        """The cached entry for the layer with ``digest``, if any and readable."""
        path = self._path(digest)
        if path is None:
            return None
        try:
            return _decode(path.read_bytes())
        except (OSError, ValueError, msgspec.DecodeError, msgspec.ValidationError):
            return None

    def put(self, digest: str, entry: CachedLayer) -> None:
        """Store ``entry`` (whose bytes were verified against ``digest``); a cache that cannot
        be written is silently skipped."""
        path = self._path(digest)
        if path is None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, _encode(entry))
        except OSError:
            return


def _encode(entry: CachedLayer) -> bytes:
    try:
        return _encoder.encode(entry)
    except UnicodeEncodeError:  # raw names: JSON escapes them, msgpack cannot
        return json.dumps(msgspec.to_builtins(entry), ensure_ascii=True).encode()


def _decode(data: bytes) -> CachedLayer:
    if data[:1] != b"{":  # a msgpack map never starts with "{"
        return _decoder.decode(data)
    if json_too_deep(data):
        raise ValueError("cache entry nested too deeply")
    return msgspec.convert(json.loads(data), CachedLayer)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place; the
    temporary file never outlives this call."""
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        name = Path(tmp.name)
    try:
        name.write_bytes(data)
        name.replace(path)
    finally:
        name.unlink(missing_ok=True)
