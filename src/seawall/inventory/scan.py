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


def _verify(layer: LayerBlob, label: str, stored: str, content: str) -> None:
    """Check the digests a layer must have against those its bytes hashed to."""
    if layer.digest:
        check_digest(label, layer.digest, stored)
    if layer.content_digest:
        check_digest(label, layer.content_digest, content)


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
    labels = {
        layer.info.index: f"{opened.info.reference}: layer {layer.info.index}"
        for layer in opened.layers
    }

    def finish(layer: LayerBlob, result: LayerResult, store: bool) -> None:
        results[layer.info.index] = result
        if store and cache:
            cache.put(layer.info.digest, result)
        if progress:
            progress(layer.info)

    for layer in opened.layers:
        if isinstance(layer.blob, StreamedBlob):
            digests_seen = layer.blob.digests
            _verify(layer, labels[layer.info.index], digests_seen.stored, digests_seen.content)
            assert isinstance(layer.blob.result, LayerResult)
            finish(layer, layer.blob.result, store=True)
            continue
        cached = cache.get(layer.info.digest) if cache else None
        if cached is not None:
            finish(layer, cached, store=False)
        else:
            pending.append((layer, layer.blob))

    large = [p for p in pending if _size(*p) >= PARALLEL_THRESHOLD]
    workers = min(workers or os.cpu_count() or 1, len(large))
    if workers <= 1:
        for layer, blob in pending:
            result = read_blob(
                blob,
                labels[layer.info.index],
                _read,
                digest=layer.digest,
                content_digest=layer.content_digest,
            )
            finish(layer, result, store=True)
        return [results[layer.info.index] for layer in opened.layers]

    from concurrent.futures import ProcessPoolExecutor

    pending.sort(key=lambda p: _size(*p), reverse=True)
    # Uncompressed local layers are hashed here, on this process's hashing thread, while the
    # workers walk them; the workers then need not read them twice.
    hashing = {
        layer.info.index: digests.ensure(blob.path, blob.offset, _file_size(blob))
        for layer, blob in pending
        if isinstance(blob, FileBlob) and digests.is_uncompressed(blob.path, blob.offset)
    }
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            (
                layer,
                pool.submit(
                    _read_blob,
                    blob,
                    labels[layer.info.index],
                    layer.digest,
                    layer.content_digest,
                    layer.info.index not in hashing,
                ),
            )
            for layer, blob in pending
        ]
        for layer, future in futures:
            result = msgspec.msgpack.decode(future.result(), type=LayerResult)
            if layer.info.index in hashing:
                hashed = hashing[layer.info.index].result()
                _verify(layer, labels[layer.info.index], hashed, hashed)  # same bytes
            finish(layer, result, store=True)
    return [results[layer.info.index] for layer in opened.layers]


def _file_size(blob: FileBlob) -> int:
    return blob.size if blob.size != WHOLE_FILE else Path(blob.path).stat().st_size


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
