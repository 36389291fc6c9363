"""Inventory of an image: open it, read each layer once (cached, in parallel), merge.

This is the engine behind ``seawall sbom``; it knows nothing about output formats.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import msgspec

from seawall.image.blob import BlobRef, check_digest, read_blob
from seawall.image.source import LayerBlob, OpenedImage, SourceOptions, StreamedBlob, find_source
from seawall.image.tarreader import ByteSource
from seawall.inventory.analyzer import AnalyzerIndex, all_analyzers
from seawall.inventory.cache import LayerCache
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
    global _worker_index  # noqa: PLW0603  (one analyzer set per process)
    if _worker_index is None:
        _worker_index = AnalyzerIndex(all_analyzers())
    return _worker_index


def _read(source: ByteSource) -> LayerResult:
    return read_layer(source, _index())


def _read_blob(blob: BlobRef, label: str, digest: str, content_digest: str) -> bytes:
    """Worker entry point: read one layer blob and return its encoded result."""
    result = read_blob(blob, label, _read, digest=digest, content_digest=content_digest)
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
    pending: list[LayerBlob] = []
    for layer in opened.layers:
        label = f"{opened.info.reference}: layer {layer.info.index} ({layer.info.digest[:19]})"
        cached = cache.get(layer.info.digest) if cache else None
        if isinstance(layer.blob, StreamedBlob):
            results[layer.info.index] = _streamed_result(layer, layer.blob, label)
        elif cached is not None:
            results[layer.info.index] = cached
        else:
            pending.append(layer)
            continue
        if progress:
            progress(layer.info)

    def finish(layer: LayerBlob, result: LayerResult) -> None:
        results[layer.info.index] = result
        if cache:
            cache.put(layer.info.digest, result)
        if progress:
            progress(layer.info)

    def label_of(layer: LayerBlob) -> str:
        return f"{opened.info.reference}: layer {layer.info.index}"

    large = [p for p in pending if _size(p) >= PARALLEL_THRESHOLD]
    workers = min(workers or os.cpu_count() or 1, len(large))
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        pending.sort(key=_size, reverse=True)
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [
                (layer, pool.submit(partial(_read_blob, layer.blob, label_of(layer),
                                            layer.digest, layer.content_digest)))
                for layer in pending
            ]
            for layer, future in futures:
                finish(layer, msgspec.msgpack.decode(future.result(), type=LayerResult))
    else:
        for layer in pending:
            assert not isinstance(layer.blob, StreamedBlob)
            finish(layer, read_blob(layer.blob, label_of(layer), _read, digest=layer.digest,
                                    content_digest=layer.content_digest))
    return [results[layer.info.index] for layer in opened.layers]


def _size(layer: LayerBlob) -> int:
    return getattr(layer.blob, "size", 0) or layer.info.size


def build_inventory(
    target: str, options: InventoryOptions, progress: ProgressCallback | None = None
) -> Inventory:
    """Read the image ``target`` and return its inventory."""
    index = _index()
    source = find_source(target, options.source or None, options.source_options)
    opened = source.open(target, options.source_options, _read)
    cache = LayerCache(options.cache_dir, index.fingerprint) if options.cache_dir else None
    results = read_layers(opened, cache, options.workers, progress)
    distro, packages, warnings = merge_layers(list(zip(opened.info.layers, results, strict=True)))
    return Inventory(image=opened.info, distro=distro, packages=tuple(packages),
                     warnings=tuple(warnings))
