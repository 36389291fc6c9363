"""The image source interface and the registry of sources.

A source turns what the user typed (a path, a reference) into an :class:`OpenedImage`: the
image's metadata and, for each layer, where its blob is and which digest it must have. Layers
are then read by the inventory engine, in parallel and through the cache. Sources whose bytes
can only be read once, in order (a compressed archive, the Docker daemon's export stream),
read their layers while opening and hand back :class:`StreamedBlob` results instead.
"""

from __future__ import annotations

import os
import stat
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import msgspec

from seawall.errors import InputError
from seawall.image.blob import BlobRef, Digests
from seawall.image.manifest import Platform
from seawall.image.tarreader import ByteSource
from seawall.model import ImageInfo, LayerInfo
from seawall.safety.files import describe

LayerReader = Callable[[ByteSource], object]


class SourceOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How to reach and pick an image; every field is optional."""

    platform: Platform | None = None
    username: str = ""
    password: str = ""
    insecure: bool = False
    docker_host: str = ""
    docker_config: str = ""  # directory holding config.json; default ~/.docker


class StreamedBlob(msgspec.Struct, frozen=True):
    """A layer already read while the source was opened, with the digests it hashed to."""

    name: str
    result: object
    digests: Digests


class LayerBlob(msgspec.Struct, frozen=True, kw_only=True):
    """One layer to read: where it is and which digests it must match."""

    info: LayerInfo
    blob: BlobRef | StreamedBlob
    digest: str = ""  # of the stored (possibly compressed) bytes
    content_digest: str = ""  # of the uncompressed tar, when that is all we can check


class OpenedImage(msgspec.Struct, frozen=True, kw_only=True):
    """An image whose metadata is read and whose layers are ready to be read."""

    info: ImageInfo
    layers: tuple[LayerBlob, ...]


class ImageSource(ABC):
    """One way of getting an image. Subclasses register with :func:`register_source`."""

    name: ClassVar[str]
    description: ClassVar[str]
    # Detection order: lower first. Local paths are tried before the daemon and registries.
    priority: ClassVar[int] = 50

    @abstractmethod
    def detect(self, target: str, options: SourceOptions) -> bool:
        """True if ``target`` looks like an image this source can open (cheap, no network)."""

    @abstractmethod
    def open(self, target: str, options: SourceOptions, read_layer: LayerReader) -> OpenedImage:
        """Read the image's metadata. ``read_layer`` is for sources that must read their
        layers while opening (their blobs come back as :class:`StreamedBlob`)."""


def split_named_target(target: str, exists: Callable[[Path], bool]) -> tuple[str, str]:
    """``PATH`` or ``PATH:NAME`` (an image inside a multi-image archive or layout).

    ``exists`` says whether a path is of the wanted kind (file, directory); a target that
    exists as written is never split, so paths containing ``:`` keep working.
    """
    if exists(Path(target)):
        return target, ""
    path, sep, name = target.rpartition(":")
    if sep and exists(Path(path)):
        return path, name
    return target, ""


_SOURCES: dict[str, ImageSource] = {}
_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".oci")
_PATH_PREFIXES = ("/", "./", "../", "~")
_FIRST_REMOTE_PRIORITY = 50  # the daemon and registries come after every local source


def register_source(cls: type[ImageSource]) -> type[ImageSource]:
    """Class decorator: make a source available by name and to auto-detection."""
    _SOURCES[cls.name] = cls()
    return cls


def sources() -> list[ImageSource]:
    """All registered sources in detection order."""
    import seawall.image.sources  # noqa: F401  (importing registers them)

    return sorted(_SOURCES.values(), key=lambda s: (s.priority, s.name))


def _local_path(target: str) -> str:
    """The file or directory part of ``PATH[:NAME]``."""
    return split_named_target(target, Path.exists)[0]


def _looks_local(target: str) -> bool:
    """True if ``target`` is meant as a path: it exists, is written like one (``./``, ``/``,
    ``../``, ``~``) or is named like an archive. Such a target is never looked up in a
    daemon or registry, where a typo would only become a confusing network error."""
    path = _local_path(target)
    return (
        path.startswith(_PATH_PREFIXES) or path.endswith(_ARCHIVE_SUFFIXES) or os.path.lexists(path)
    )


def _why_not_local(target: str) -> str:
    """Why no local source could open the path ``target``, in one line."""
    name = _local_path(target)
    path = Path(name)
    if not os.path.lexists(path):
        return f"{name}: no such file or directory"
    if path.is_dir():
        return f"{name}: a directory but not an OCI image layout (no index.json or oci-layout)"
    mode = path.stat().st_mode if path.exists() else 0
    if path.exists() and not stat.S_ISREG(mode):
        return f"{name}: {describe(mode)}, not an image archive"
    return f"{name}: not an image archive (neither a tar nor a gzip-compressed tar)"


def find_source(target: str, forced: str | None, options: SourceOptions) -> ImageSource:
    """The source named ``forced``, or the first whose ``detect`` accepts ``target``; a
    target that looks like a local path is only offered to the local sources."""
    available = sources()
    if forced:
        for source in available:
            if source.name == forced:
                return source
        names = ", ".join(s.name for s in available)
        raise InputError(f"unknown image source {forced!r}", hint=f"choose one of: {names}")
    local = _looks_local(target)
    for source in available:
        if local and source.priority >= _FIRST_REMOTE_PRIORITY:
            break
        if source.detect(target, options):
            return source
    if local:
        raise InputError(_why_not_local(target))
    raise InputError(
        f"cannot tell what {target!r} is",
        hint="give a docker-save or OCI archive, an OCI layout directory, or an image "
        "reference; --source forces one",
    )
