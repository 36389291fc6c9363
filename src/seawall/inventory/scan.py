"""Inventory of an image: open it, read each layer once (cached, in parallel), merge.

This is the engine behind ``seawall sbom``; it knows nothing about output formats, but the
inventory it returns can be written by any of them (raw bytes and control characters in
names become ``\\xNN`` escapes).
:class:`InventoryReader` owns what outlives one image, the worker processes that read large
layers: a long-running caller makes one, reads many images with it (from several threads
if it likes) and closes it. :func:`build_inventory` is the one-shot form the command line
uses. Digests are computed by the :class:`~seawall.image.digests.DigestPrefetcher` of the
read (the caller's, or one made for it), never by shared state.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from seawall.errors import ImageFormatError
from seawall.image.blob import WHOLE_FILE, BlobRef, Digests, FileBlob, check_digest, read_blob
from seawall.image.digests import DigestPrefetcher, is_uncompressed
from seawall.image.source import LayerBlob, OpenedImage, SourceOptions, StreamedBlob, find_source
from seawall.image.tarreader import ByteSource
from seawall.inventory.analyzer import AnalyzerIndex, all_analyzers
from seawall.inventory.cache import CachedLayer, LayerCache, code_fingerprint
from seawall.inventory.layer import LayerResult, read_layer
from seawall.inventory.merge import merge_layers
from seawall.model import Inventory, LayerInfo
from seawall.safety.text import printable_struct

if TYPE_CHECKING:  # multiprocessing is imported only when workers are needed
    from concurrent.futures import Future, ProcessPoolExecutor
    from multiprocessing.context import BaseContext

# Layers smaller than this are read in-process: starting a worker would cost more.
PARALLEL_THRESHOLD = 32 * 1024 * 1024

ProgressCallback = Callable[[LayerInfo], None]
_WorkerCall = tuple[BlobRef, str, str, str, bool]  # the arguments of _read_blob


class InventoryOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How to find the image and how to read it."""

    source: str = ""  # force a source by name; empty: auto-detect
    source_options: SourceOptions = SourceOptions()
    cache_dir: Path | None = None  # None: no cache


def _read(source: ByteSource) -> LayerResult:
    """Read one layer with every analyzer (an index costs microseconds to build; building
    it here imports the analyzers only once a layer is actually read)."""
    return read_layer(source, AnalyzerIndex(all_analyzers()))


def _read_blob(
    blob: BlobRef, label: str, digest: str, content_digest: str, verify: bool
) -> tuple[LayerResult, Digests]:
    """Worker entry point: read one layer blob; the result travels back pickled (file
    names that are not UTF-8 are kept as they are)."""
    return read_blob(
        blob, label, _read, digest=digest, content_digest=content_digest, verify=verify
    )


def _verify(layer: LayerBlob, label: str, stored: str, content: str) -> None:
    """Check the digests a layer must have against those its bytes hashed to."""
    if layer.digest:
        check_digest(label, layer.digest, stored)
    if layer.content_digest:
        check_digest(label, layer.content_digest, content)


def _require_digest(layer: LayerBlob, label: str) -> None:
    """Refuse a layer with nothing to verify its bytes against: it could be anything."""
    if not (layer.digest or layer.content_digest):
        raise ImageFormatError(f"{label}: no digest to verify the layer against")


def _trusted(layer: LayerBlob, entry: CachedLayer, stored: str, label: str) -> LayerResult | None:
    """The cached result, if the layer's bytes (whose stored bytes hash to ``stored``) are
    the ones the entry was made from; None to read them instead (the same content stored
    another way). A digest that the bytes or the entry contradict raises."""
    if layer.digest:
        check_digest(label, layer.digest, stored)
    if stored != entry.stored:
        return None
    if layer.content_digest:
        if not entry.content:
            return None
        check_digest(label, layer.content_digest, entry.content)
    return entry.result


class InventoryReader:
    """Reads images into inventories, with one pool of worker processes for large layers.

    ``workers`` caps the worker processes (0: one per CPU; 1: every layer is read in this
    process, no process is ever started). The pool starts at the first read with two or
    more large layers to read, as large as that read can use, grows when a later read can
    use more, and is reused until :meth:`close` (or the end of a ``with`` block).
    ``mp_context`` chooses how workers start (default: :mod:`multiprocessing`'s default; a
    threaded server may prefer ``multiprocessing.get_context("forkserver")``).

    Thread-safe: reads may run at the same time and share the pool; close the reader after
    the last one has returned.
    """

    def __init__(self, workers: int = 0, mp_context: BaseContext | None = None) -> None:
        self._max_workers = workers or os.cpu_count() or 1
        self._mp_context = mp_context
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._pool_size = 0
        self._closed = False
        self._fingerprint = ""

    def __enter__(self) -> InventoryReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes (layers not started are dropped); idempotent."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def read(
        self,
        target: str,
        options: InventoryOptions,
        progress: ProgressCallback | None = None,
        prefetcher: DigestPrefetcher | None = None,
    ) -> Inventory:
        """Read the image ``target`` and return its inventory.

        ``prefetcher`` hashes the uncompressed local layers; give one that was started on
        the image early (the command line does), else the read makes and closes its own.
        """
        if self._closed:
            raise RuntimeError("the inventory reader is closed")
        source = find_source(target, options.source or None, options.source_options)
        with contextlib.ExitStack() as cleanup:
            if prefetcher is None:
                prefetcher = cleanup.enter_context(DigestPrefetcher())
            opened = source.open(target, options.source_options, _read)
            cache = LayerCache(options.cache_dir, self._code()) if options.cache_dir else None
            results = self.read_layers(opened, cache, prefetcher, progress)
        layers = list(zip(opened.info.layers, results, strict=True))
        distro, packages, warnings = merge_layers(layers)
        # Names that are not UTF-8 were kept as raw bytes up to here; every output format
        # needs them as text.
        return printable_struct(
            Inventory(
                image=opened.info,
                distro=distro,
                packages=tuple(packages),
                warnings=tuple(warnings),
            )
        )

    def _code(self) -> str:
        """The code fingerprint of the layer cache, taken once: the code this process runs
        does not change when files on disk do. (Two threads may both compute it; they get
        the same string.)"""
        if not self._fingerprint:
            self._fingerprint = code_fingerprint()
        return self._fingerprint

    def read_layers(
        self,
        opened: OpenedImage,
        cache: LayerCache | None,
        prefetcher: DigestPrefetcher,
        progress: ProgressCallback | None = None,
    ) -> list[LayerResult]:
        """Results for every layer of ``opened``, bottom-up: from the stream pass, from the
        cache, or by reading the blob (in worker processes when there are several large ones).

        Every path checks the layer against its digests: a streamed or read layer as its
        bytes pass, a cached one by hashing its local bytes (no walk) and comparing them with
        those the entry was made from; a mismatch raises DigestMismatchError."""
        results: dict[int, LayerResult] = {}
        pending: list[tuple[LayerBlob, BlobRef]] = []
        labels = {
            layer.info.index: f"{opened.info.reference}: layer {layer.info.index}"
            for layer in opened.layers
        }

        def finish(layer: LayerBlob, result: LayerResult, seen: Digests | None) -> None:
            results[layer.info.index] = result
            if seen is not None and seen.stored and cache:
                entry = CachedLayer(stored=seen.stored, content=seen.content, result=result)
                cache.put(layer.info.digest, entry)
            if progress:
                progress(layer.info)

        hits: list[tuple[LayerBlob, BlobRef, CachedLayer, Future[str] | None]] = []
        for layer in opened.layers:
            label = labels[layer.info.index]
            _require_digest(layer, label)
            if isinstance(layer.blob, StreamedBlob):
                seen = layer.blob.digests
                _verify(layer, label, seen.stored, seen.content)
                assert isinstance(layer.blob.result, LayerResult)
                finish(layer, layer.blob.result, seen)
                continue
            cached = cache.get(layer.info.digest) if cache else None
            if cached is None:
                pending.append((layer, layer.blob))
            else:  # local bytes are hashed before the entry is trusted (in the background)
                stored_hash = _stored_digest(layer.blob, label, prefetcher)
                hits.append((layer, layer.blob, cached, stored_hash))
        for layer, blob, cached, stored_hash in hits:
            # A registry blob is fetched by digest and verified whenever it is read, so the
            # entry made from it stands for it; local bytes must hash to what they claim.
            stored = stored_hash.result() if stored_hash is not None else layer.digest[7:]
            trusted = _trusted(layer, cached, stored, labels[layer.info.index])
            if trusted is None:
                pending.append((layer, blob))
            else:
                finish(layer, trusted, None)

        large = sum(1 for p in pending if _size(*p) >= PARALLEL_THRESHOLD)
        if min(self._max_workers, large) <= 1:
            for layer, blob in pending:
                result, seen = read_blob(
                    blob,
                    labels[layer.info.index],
                    _read,
                    digest=layer.digest,
                    content_digest=layer.content_digest,
                    prefetcher=prefetcher,
                )
                finish(layer, result, seen)
            return [results[layer.info.index] for layer in opened.layers]

        pending.sort(key=lambda p: _size(*p), reverse=True)
        # Uncompressed local layers are hashed here, on the prefetcher's thread, while the
        # workers walk them; the workers then need not read them twice.
        hashing = {
            layer.info.index: prefetcher.digest(blob.path, blob.offset, _file_size(blob))
            for layer, blob in pending
            if isinstance(blob, FileBlob) and is_uncompressed(blob.path, blob.offset)
        }
        futures = self._submit(
            large,
            [
                (
                    blob,
                    labels[layer.info.index],
                    layer.digest,
                    layer.content_digest,
                    layer.info.index not in hashing,
                )
                for layer, blob in pending
            ],
        )
        try:
            for (layer, _), future in zip(pending, futures, strict=True):
                result, seen = future.result()
                if layer.info.index in hashing:
                    hashed = hashing[layer.info.index].result()
                    _verify(layer, labels[layer.info.index], hashed, hashed)  # same bytes
                    seen = Digests(hashed, hashed)
                finish(layer, result, seen)
        finally:
            for future in futures:
                future.cancel()  # after an error: this read's layers not started yet
        return [results[layer.info.index] for layer in opened.layers]

    def _submit(
        self, wanted: int, calls: list[_WorkerCall]
    ) -> list[Future[tuple[LayerResult, Digests]]]:
        """Queue ``calls`` on the pool, first starting or growing it to ``wanted`` workers
        (at most ``workers``). A pool that a dead worker broke is replaced, so one crash
        does not fail every later read."""
        from concurrent.futures.process import BrokenProcessPool

        size = min(self._max_workers, wanted)
        with self._lock:
            if self._closed:
                raise RuntimeError("the inventory reader is closed")
            pool = self._pool
            if pool is None or self._pool_size < size:
                pool = self._replace_pool(size)
            try:
                return [pool.submit(_read_blob, *call) for call in calls]
            except BrokenProcessPool:
                pool = self._replace_pool(size)
                return [pool.submit(_read_blob, *call) for call in calls]

    def _replace_pool(self, size: int) -> ProcessPoolExecutor:
        """Start a pool of ``size`` workers in place of the current one, which finishes the
        layers already queued on it (other reads may be waiting for them). Called with the
        lock held."""
        from concurrent.futures import ProcessPoolExecutor  # imports multiprocessing: lazily

        if self._pool is not None:
            self._pool.shutdown(wait=False)
        self._pool = ProcessPoolExecutor(size, mp_context=self._mp_context)
        self._pool_size = size
        return self._pool


def _stored_digest(blob: BlobRef, label: str, prefetcher: DigestPrefetcher) -> Future[str] | None:
    """The sha256 of a local blob's stored bytes, being computed; None for a registry blob."""
    if not isinstance(blob, FileBlob):
        return None
    try:
        return prefetcher.digest(blob.path, blob.offset, _file_size(blob))
    except OSError as exc:
        raise ImageFormatError(f"{label}: cannot read {blob.path}: {exc.strerror}") from None


def _file_size(blob: FileBlob) -> int:
    return blob.size if blob.size != WHOLE_FILE else Path(blob.path).stat().st_size


def _size(layer: LayerBlob, blob: BlobRef) -> int:
    return max(blob.size, 0) or layer.info.size


def build_inventory(
    target: str,
    options: InventoryOptions,
    progress: ProgressCallback | None = None,
    *,
    workers: int = 0,
    prefetcher: DigestPrefetcher | None = None,
) -> Inventory:
    """Read the image ``target`` with a reader of its own, closed before returning (the
    command line's case; see :class:`InventoryReader` for ``workers``)."""
    with InventoryReader(workers) as reader:
        return reader.read(target, options, progress, prefetcher)
