"""Read one layer tar: record its filesystem changes and run the analyzers on wanted files.

A layer is analysed on its own, without looking at other layers, so that its result can be
cached by digest and reused by every image that shares it. What the merge step needs later is
kept in :class:`LayerResult`: every non-directory path (to know what an upper layer shadows),
whiteouts and opaque directories (deletions), symlinks (to resolve paths inside the root), and
each analysed file's :class:`~seawall.inventory.analyzer.AnalyzerOutput`.
"""

from __future__ import annotations

import io
import posixpath
import tempfile
from typing import BinaryIO

import msgspec

from seawall.image.tarreader import (
    HARDLINK,
    SYMLINK,
    ByteSource,
    MemoryFile,
    TarEntry,
    WindowSource,
    iter_tar,
    safe_member_path,
)
from seawall.inventory.analyzer import Analyzer, AnalyzerIndex, AnalyzerOutput, SharedParses

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
# Content up to this size is handed to analyzers from memory; larger files are spooled to a
# temporary file (or, for a seekable layer, read in place) so a layer is never held in memory.
IN_MEMORY_LIMIT = 8 * 1024 * 1024
_MAGIC_PEEK = 16


class LayerResult(msgspec.Struct, kw_only=True):
    """Everything the merge step needs from one layer."""

    entries: list[str] = msgspec.field(default_factory=list)
    whiteouts: list[str] = msgspec.field(default_factory=list)
    opaque_dirs: list[str] = msgspec.field(default_factory=list)
    symlinks: dict[str, str] = msgspec.field(default_factory=dict)
    outputs: dict[str, AnalyzerOutput] = msgspec.field(default_factory=dict)
    warnings: list[str] = msgspec.field(default_factory=list)


def _content(source: ByteSource, entry: TarEntry, head: bytes) -> BinaryIO:
    """The entry's content as a seekable file, ``head`` being its first bytes already read."""
    if isinstance(source, WindowSource):
        start = source.absolute(entry.offset)
        return MemoryFile(source.memory[start : start + entry.size])  # type: ignore[return-value]
    if entry.size <= IN_MEMORY_LIMIT:
        rest = source.read(entry.size - len(head))
        return io.BytesIO(head + rest)
    spool = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_LIMIT)  # noqa: SIM115
    spool.write(head)
    remaining = entry.size - len(head)
    while remaining > 0:
        chunk = source.read(min(remaining, 1 << 20))
        if not chunk:
            break
        spool.write(chunk)
        remaining -= len(chunk)
    spool.seek(0)
    return spool  # type: ignore[return-value]


def _run(analyzers: list[Analyzer], path: str, data: BinaryIO, result: LayerResult) -> None:
    merged = AnalyzerOutput()
    shared = SharedParses(data)
    for analyzer in analyzers:
        data.seek(0)
        try:
            output = analyzer.analyze_shared(path, data, shared)
        except Exception as exc:
            result.warnings.append(f"{path}: {analyzer.name}: {exc}"[:500])
            continue
        merged.packages.extend(output.packages)
        merged.distro = output.distro or merged.distro
        merged.warnings.extend(f"{path}: {w}"[:500] for w in output.warnings)
    result.outputs[path] = merged
    result.warnings.extend(merged.warnings)


def _select(
    candidates: list[Analyzer], entry: TarEntry, path: str, result: LayerResult
) -> list[Analyzer]:
    """Drop analyzers whose size limit the file exceeds (with a warning)."""
    chosen = [a for a in candidates if entry.size <= a.max_size]
    if len(chosen) < len(candidates):
        result.warnings.append(f"{path}: {entry.size} bytes, too large to analyse; skipped")
    return chosen


def read_layer(source: ByteSource, index: AnalyzerIndex) -> LayerResult:
    """Walk the layer tar in ``source`` once and return what it adds, deletes and contains.

    Raises :class:`UnsafeInputError` for entries whose path is absolute or leaves the root,
    and :class:`~seawall.errors.ImageFormatError` for a corrupt or truncated tar.
    """
    result = LayerResult()
    offsets: dict[str, TarEntry] = {}  # regular files of this layer, for hard links
    for entry in iter_tar(source):
        path = safe_member_path(entry.name)
        if not path:
            continue
        directory, _, basename = path.rpartition("/")
        if basename.startswith(WHITEOUT_PREFIX):
            if basename == OPAQUE_MARKER:
                result.opaque_dirs.append(directory)
            else:
                result.whiteouts.append(posixpath.join(directory, basename[len(WHITEOUT_PREFIX) :]))
            continue
        if entry.type == "5":
            continue
        result.entries.append(path)
        if entry.type == SYMLINK:
            result.symlinks[path] = entry.linkname
            continue
        if entry.type == HARDLINK:
            _hardlink(path, entry, index, result, offsets, source)
            continue
        if not entry.is_file:
            continue
        offsets[path] = entry
        candidates = index.candidates(path, bool(entry.mode & 0o111))
        if not candidates:
            continue
        candidates = _select(candidates, entry, path, result)
        head = source.read(min(entry.size, _MAGIC_PEEK))
        candidates = [a for a in candidates if not a.magic or head.startswith(a.magic)]
        if candidates:
            with _content(source, entry, head) as data:
                _run(candidates, path, data, result)
    return result


def _hardlink(
    path: str,
    entry: TarEntry,
    index: AnalyzerIndex,
    result: LayerResult,
    offsets: dict[str, TarEntry],
    source: ByteSource,
) -> None:
    """Analyse a hard link as the file it links to (within this layer)."""
    target = safe_member_path(entry.linkname)
    original = offsets.get(target)
    if original is None:
        return  # links to a file of a lower layer or to nothing: docker refuses the former
    candidates = index.candidates(path, bool(original.mode & 0o111))
    if not candidates:
        return
    if target in result.outputs:
        output = result.outputs[target]
        result.outputs[path] = AnalyzerOutput(
            packages=[msgspec.structs.replace(p, path=path) for p in output.packages],
            distro=output.distro,
        )
    elif isinstance(source, WindowSource):
        candidates = _select(candidates, original, path, result)
        with _content(source, original, b"") as data:
            _run(candidates, path, data, result)
    else:
        result.warnings.append(f"{path}: hard link to {target}, which was not read; skipped")
