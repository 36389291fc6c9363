"""Inventory of an image: open it, read each layer once (cached, in parallel), merge.

This is the engine behind ``seawall sbom``; it knows nothing about output formats.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import msgspec

from seawall.image import digests
from seawall.image.blob import WHOLE_FILE, BlobRef, FileBlob, check_digest, read_blob
from seawall.image.source import LayerBlob, OpenedImage, SourceOptions, StreamedBlob, find_source
from seawall.image.tarreader import ByteSource
from seawall.inventory.analyzer import AnalyzerIndex, all_analyzers
from seawall.inventory.cache import LayerCache, code_fingerprint
from seawall.inventory.layer import LayerResult, read_layer
from seawall.inventory.merge import merge_layers
from seawall.model import Inventory, LayerInfo

# Layers smaller than this are read in-process: starting a worker would cost more.
PARALLEL_THRESHOLD = 32 * 1024 * 1024

ProgressCallback = Callable[[LayerInfo], None]


class InventoryOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How to find the image and how to read it."""

    source: str = ""  # force a source by name; empty: auto-detect
    source_options: SourceOptions = SourceOptions()
    cache_dir: Path | None = None  # None: no cache
    workers: int = 0  # 0: one per CPU


_worker_index: AnalyzerIndex | None = None


def _index() -> AnalyzerIndex:
    global _worker_index
    if _worker_index is None:
        _worker_index = AnalyzerIndex(all_analyzers())
    return _worker_index


def _read(source: ByteSource) -> LayerResult:
    return read_layer(source, _index())


def _read_blob(blob: BlobRef, label: str, digest: str, content_digest: str, verify: bool) -> bytes:
    """Worker entry point: read one layer blob and return its encoded result."""
    result = read_blob(
        blob, label, _read, digest=digest, content_digest=content_digest, verify=verify
    )
    return msgspec.msgpack.encode(result)


def _streamed_result(layer: LayerBlob, blob: StreamedBlob, label: str) -> LayerResult:
    if layer.digest:
        check_digest(label, layer.digest, blob.digests.stored)
    if layer.content_digest:
        check_digest(label, layer.content_digest, blob.digests.content)
    assert isinstance(blob.result, LayerResult)
    return blob.result


def read_layers(
    opened: OpenedImage,
    cache: LayerCache | None,
    workers: int,
    progress: ProgressCallback | None = None,
) -> list[LayerResult]:
    """Results for every layer of ``opened``, bottom-up: from the cache, the stream pass, or
    by reading the blob (in worker processes when there are several large ones)."""
    results: dict[int, LayerResult] = {}
    pending: list[tuple[LayerBlob, BlobRef]] = []

    def finish(layer: LayerBlob, result: LayerResult, store: bool) -> None:
        results[layer.info.index] = result
        if store and cache:
            cache.put(layer.info.digest, result)
        if progress:
            progress(layer.info)

    for layer in opened.layers:
        label = f"{opened.info.reference}: layer {layer.info.index}"
        if isinstance(layer.blob, StreamedBlob):
            finish(layer, _streamed_result(layer, layer.blob, label), store=True)
            continue
        cached = cache.get(layer.info.digest) if cache else None
        if cached is not None:
            finish(layer, cached, store=False)
        else:
            pending.append((layer, layer.blob))

    def job(layer: LayerBlob, blob: BlobRef) -> tuple[BlobRef, str, str, str]:
        label = f"{opened.info.reference}: layer {layer.info.index}"
        return blob, label, layer.digest, layer.content_digest

    large = [p for p in pending if _size(*p) >= PARALLEL_THRESHOLD]
    workers = min(workers or os.cpu_count() or 1, len(large))
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        pending.sort(key=lambda p: _size(*p), reverse=True)
        # Uncompressed local layers are hashed here, on this process's hashing thread, while
        # the workers walk them; the workers then need not read them twice.
        hashing = {
            layer.info.index: digests.ensure(blob.path, blob.offset, _file_size(blob))
            for layer, blob in pending
            if isinstance(blob, FileBlob) and digests.is_uncompressed(blob.path, blob.offset)
        }
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [
                (layer, pool.submit(_read_blob, *job(layer, blob), layer.info.index not in hashing))
                for layer, blob in pending
            ]
            for layer, future in futures:
                result = msgspec.msgpack.decode(future.result(), type=LayerResult)
                if layer.info.index in hashing:
                    label = f"{opened.info.reference}: layer {layer.info.index}"
                    _check(layer, label, hashing[layer.info.index].result())
                finish(layer, result, True)
    else:
        for layer, blob in pending:
            blob, label, digest, content_digest = job(layer, blob)
            result = read_blob(blob, label, _read, digest=digest, content_digest=content_digest)
            finish(layer, result, store=True)
    return [results[layer.info.index] for layer in opened.layers]


def _file_size(blob: FileBlob) -> int:
    return blob.size if blob.size != WHOLE_FILE else Path(blob.path).stat().st_size


def _check(layer: LayerBlob, label: str, hashed: str) -> None:
    """Verify an uncompressed layer's digest (stored and content are the same bytes)."""
    for expected in (layer.digest, layer.content_digest):
        if expected:
            check_digest(label, expected, hashed)


def _size(layer: LayerBlob, blob: BlobRef) -> int:
    return max(blob.size, 0) or layer.info.size


def build_inventory(
    target: str, options: InventoryOptions, progress: ProgressCallback | None = None
) -> Inventory:
    """Read the image ``target`` and return its inventory."""
    source = find_source(target, options.source or None, options.source_options)
    opened = source.open(target, options.source_options, _read)
    cache = LayerCache(options.cache_dir, code_fingerprint()) if options.cache_dir else None
    results = read_layers(opened, cache, options.workers, progress)
    distro, packages, warnings = merge_layers(list(zip(opened.info.layers, results, strict=True)))
    return Inventory(
        image=opened.info, distro=distro, packages=tuple(packages), warnings=tuple(warnings)
    )
