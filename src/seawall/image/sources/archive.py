"""Image archives: ``docker save`` tars (legacy and OCI-style) and OCI archives.

A plain tar on disk is indexed by walking its headers only, then each layer is read in place
(a byte range of the archive) by the inventory engine, in parallel. A gzip-compressed archive,
or any stream, is read once from start to end: small JSON files are kept and layers are
analysed as they pass (:class:`StreamArchiveStore`).
"""

from __future__ import annotations

import mmap
import os
import posixpath
from pathlib import Path
from typing import ClassVar

from seawall.errors import ImageFormatError, UnsafeInputError
from seawall.image.assemble import BlobStore, open_docker_archive, open_oci
from seawall.image.blob import FileBlob, Prefixed, open_decompressed, read_stream
from seawall.image.magic import GZIP_MAGIC, is_compressed, is_tar
from seawall.image.manifest import MAX_JSON
from seawall.image.source import (
    ImageSource,
    LayerReader,
    OpenedImage,
    SourceOptions,
    StreamedBlob,
    register_source,
    split_named_target,
)
from seawall.image.tarreader import (
    BLOCK,
    HARDLINK,
    SYMLINK,
    ByteSource,
    Readable,
    StreamSource,
    TarEntry,
    WindowSource,
    iter_tar,
    safe_member_path,
)
from seawall.safety.files import open_descriptor

MAX_LINK_HOPS = 16
# Blobs that are small and start with "{" are manifests or configs, not layers.
_JSON_NAMES = frozenset(("manifest.json", "index.json", "oci-layout", "repositories"))


def looks_like_archive(path: str) -> bool:
    """True for a regular file holding a tar (plain, or gzip-compressed)."""
    try:
        with open(path, "rb") as file:
            head = file.read(BLOCK)
    except OSError:
        return False
    return head.startswith(GZIP_MAGIC) or is_tar(head)


class _Links:
    """Symlinks and hard links between archive members, resolved inside the archive."""

    def __init__(self) -> None:
        self.links: dict[str, str] = {}

    def add(self, entry: TarEntry, path: str) -> None:
        if entry.type == SYMLINK:
            self.links[path] = posixpath.normpath(
                posixpath.join(posixpath.dirname(path), entry.linkname)
            )
        elif entry.type == HARDLINK:
            self.links[path] = safe_member_path(entry.linkname)

    def resolve(self, name: str) -> str:
        path = posixpath.normpath(name)
        for _ in range(MAX_LINK_HOPS):
            target = self.links.get(path)
            if target is None:
                return path
            if target.startswith("../") or target == "..":
                raise UnsafeInputError(f"archive member {name!r} links outside the archive")
            path = target
        raise ImageFormatError(f"archive member {name!r}: too many links")


class TarArchiveStore:
    """Random access to the members of an uncompressed tar file."""

    def __init__(self, path: str) -> None:
        self.label = path
        self._path = path
        self._entries: dict[str, TarEntry] = {}
        self._links = _Links()
        fd = open_descriptor(path)
        self._fd = fd
        try:
            if os.fstat(fd).st_size == 0:
                raise ImageFormatError(f"{path}: empty file")
            with mmap.mmap(fd, 0, prot=mmap.PROT_READ) as mapped:
                self._index(memoryview(mapped))
        except BaseException:
            os.close(fd)
            raise

    def _index(self, memory: memoryview) -> None:
        try:
            for entry in iter_tar(WindowSource(memory, 0, len(memory))):
                member = safe_member_path(entry.name)
                self._links.add(entry, member)
                if entry.is_file:
                    self._entries[member] = entry
        finally:
            memory.release()

    def close(self) -> None:
        os.close(self._fd)

    def _entry(self, name: str) -> TarEntry:
        entry = self._entries.get(self._links.resolve(name))
        if entry is None:
            raise ImageFormatError(
                f"{self.label}: archive has no {name!r}", hint="is this an image archive?"
            )
        return entry

    def has(self, name: str) -> bool:
        return self._links.resolve(name) in self._entries

    def read(self, name: str) -> bytes:
        entry = self._entry(name)
        if entry.size > MAX_JSON:
            raise UnsafeInputError(f"{self.label}: {name} is {entry.size} bytes; too large")
        return os.pread(self._fd, entry.size, entry.offset)

    def blob(self, name: str) -> FileBlob:
        entry = self._entry(name)
        return FileBlob(self._path, entry.offset, entry.size)


class _Member:
    """The content of the current tar entry of a stream, as a readable stream."""

    def __init__(self, source: ByteSource, size: int) -> None:
        self._source, self._left = source, size

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._source.read(size)
        self._left -= len(data)
        return data


def _is_layer(head: bytes) -> bool:
    """True if content starting with ``head`` is a tar, compressed or not."""
    return is_compressed(head) or is_tar(head) or head.count(0) == len(head)


class StreamArchiveStore:
    """An image archive read once, in order: JSON kept, layers analysed on the way."""

    def __init__(self, stream: Readable, label: str, read_layer: LayerReader) -> None:
        self.label = label
        self._small: dict[str, bytes] = {}
        self._layers: dict[str, StreamedBlob] = {}
        self._links = _Links()
        source = StreamSource(stream)
        kept = 0
        for entry in iter_tar(source):
            member = safe_member_path(entry.name)
            self._links.add(entry, member)
            if not entry.is_file:
                continue
            head = source.read(min(entry.size, BLOCK))
            basename = posixpath.basename(member)
            is_json = (
                basename in _JSON_NAMES
                or basename.endswith(".json")
                or (head.lstrip()[:1] == b"{" and entry.size <= MAX_JSON)
            )
            if is_json:
                if entry.size > MAX_JSON or kept + entry.size > 4 * MAX_JSON:
                    raise UnsafeInputError(f"{label}: {member} is too large for metadata")
                self._small[member] = head + source.read(entry.size - len(head))
                kept += entry.size
                continue
            if not _is_layer(head):
                continue  # VERSION files and other leftovers of the legacy format
            member_stream = _Member(source, entry.size - len(head))
            result, digests = read_stream(
                Prefixed(member_stream, head), f"{label}: {member}", read_layer, hash_content=True
            )
            self._layers[member] = StreamedBlob(member, result, digests)

    def has(self, name: str) -> bool:
        return self._links.resolve(name) in self._small

    def read(self, name: str) -> bytes:
        data = self._small.get(self._links.resolve(name))
        if data is None:
            raise ImageFormatError(
                f"{self.label}: archive has no {name!r}", hint="is this an image archive?"
            )
        return data

    def blob(self, name: str) -> StreamedBlob:
        blob = self._layers.get(self._links.resolve(name))
        if blob is None:
            raise ImageFormatError(f"{self.label}: archive has no layer {name!r}")
        return blob


def open_store(
    store: BlobStore, *, target: str, name: str, options: SourceOptions, prefer: str
) -> OpenedImage:
    """Open the image in an archive, the Docker way or the OCI way as its files say."""
    docker = store.has("manifest.json")
    oci = store.has("index.json")
    if (prefer == "oci-archive" and oci) or (oci and not docker):
        return open_oci(
            store, reference=target, source="oci-archive", platform=options.platform, ref_name=name
        )
    if docker:
        return open_docker_archive(
            store, reference=target, source="docker-archive", wanted_tag=name
        )
    raise ImageFormatError(
        f"{target}: neither manifest.json nor index.json found",
        hint="this tar is not an image archive",
    )


def open_archive(
    target: str, options: SourceOptions, read_layer: LayerReader, prefer: str
) -> OpenedImage:
    """Open a tar or tar.gz image archive at ``target`` (optionally ``path:name``)."""
    path, name = split_named_target(target, Path.is_file)
    with os.fdopen(open_descriptor(path), "rb") as file:
        if file.read(2) == GZIP_MAGIC:
            file.seek(0)
            store: BlobStore = StreamArchiveStore(open_decompressed(file, path), path, read_layer)
            return open_store(store, target=path, name=name, options=options, prefer=prefer)
    tar_store = TarArchiveStore(path)
    try:
        return open_store(tar_store, target=path, name=name, options=options, prefer=prefer)
    finally:
        tar_store.close()


@register_source
class DockerArchiveSource(ImageSource):
    """A ``docker save`` archive (plain or gzip)."""

    name = "docker-archive"
    description = "a `docker save` archive (plain or gzip)"
    priority: ClassVar[int] = 10

    def detect(self, target: str, options: SourceOptions) -> bool:
        path, _ = split_named_target(target, Path.is_file)
        return Path(path).is_file() and looks_like_archive(path)

    def open(self, target: str, options: SourceOptions, read_layer: LayerReader) -> OpenedImage:
        return open_archive(target, options, read_layer, prefer=self.name)


@register_source
class OCIArchiveSource(ImageSource):
    """An OCI image layout packed in a tar (``oci-archive``), plain or gzip."""

    name = "oci-archive"
    description = "an OCI image layout in a tar file"
    priority: ClassVar[int] = 11

    def detect(self, target: str, options: SourceOptions) -> bool:
        return False  # a tar is claimed by docker-archive, which opens OCI content too

    def open(self, target: str, options: SourceOptions, read_layer: LayerReader) -> OpenedImage:
        return open_archive(target, options, read_layer, prefer=self.name)
