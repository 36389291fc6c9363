"""On-disk cache of layer results, keyed by layer digest and the code that reads layers.

A layer's result depends only on its bytes (named by its digest) and on the code that reads
it, so a base layer shared by many images is read once. The code is identified by hashing the
source of the layer reader and every analyzer: any change to them starts a fresh cache, with no
version number to forget to bump (and without importing the analyzers, which lets a scan start
reading and hashing layers while they load). Entries are written to a temporary
file and renamed into place, so a crash never leaves a half-written entry; an entry that fails
to decode is ignored and recomputed.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import msgspec

from seawall import __version__
from seawall.inventory.layer import LayerResult

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_decoder = msgspec.msgpack.Decoder(LayerResult)
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
        if not _DIGEST.match(digest):
            return None
        return self.directory / f"{digest[7:]}.msgpack"

    def get(self, digest: str) -> LayerResult | None:
        """The cached result for the layer with ``digest``, if any and readable."""
        path = self._path(digest)
        if path is None:
            return None
        try:
            return _decoder.decode(path.read_bytes())
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return None

    def put(self, digest: str, result: LayerResult) -> None:
        """Store ``result``; a cache that cannot be written is silently skipped."""
        path = self._path(digest)
        if path is None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.directory, delete=False) as tmp:
                tmp.write(_encoder.encode(result))
            Path(tmp.name).replace(path)
        except OSError:
            return
