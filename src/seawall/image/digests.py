"""Background sha256 of byte ranges of local files: the digests of uncompressed layers.

Hashing an uncompressed layer is the longest single step of reading a ``docker save``
archive (about 0.6 s for 900 MB) and needs nothing but the file. So hashing runs on one
background thread per process while the tar walk goes on elsewhere:

- the entry point hands any plain tar named on the command line to :func:`start_archive`
  before the command line library and the engines load (a quarter of a second), which queues
  every large uncompressed member;
- the layer reader asks :func:`ensure` for a range's digest, getting the queued one or queueing
  it now; worker processes walking layers leave hashing to their parent.

Only the standard library and the tar reader are imported here.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from seawall.image.magic import HEAD_SIZE, is_compressed, is_tar
from seawall.image.tarreader import WindowSource, iter_tar

_CHUNK = 16 << 20
_MIN_MEMBER = 1 << 20  # small members are hashed in passing, not worth queueing ahead
_lock = threading.Lock()
_futures: dict[tuple[str, int, int], Future[str]] = {}
_pool: ThreadPoolExecutor | None = None


def _forget_after_fork() -> None:
    """A forked worker inherits the futures and the lock but not the thread behind them."""
    global _lock, _pool
    _lock = threading.Lock()
    _futures.clear()
    _pool = None


os.register_at_fork(after_in_child=_forget_after_fork)


def _hash_range(path: str, offset: int, size: int) -> str:
    """sha256 of ``size`` bytes at ``offset`` of ``path``; hashed pages are dropped from this
    process's resident memory as it goes (they stay in the page cache)."""
    hasher = hashlib.sha256()
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, prot=mmap.PROT_READ) as mapped:
        view = memoryview(mapped)
        try:
            for start in range(offset, offset + size, _CHUNK):
                end = min(start + _CHUNK, offset + size)
                hasher.update(view[start:end])
                aligned = start - start % mmap.PAGESIZE
                mapped.madvise(mmap.MADV_DONTNEED, aligned, end - aligned)
        finally:
            view.release()
    return hasher.hexdigest()


def ensure(path: str, offset: int, size: int) -> Future[str]:
    """The sha256 (hex) of the range, queued on this process's hashing thread if new."""
    global _pool  # one hashing thread per process
    resolved = str(Path(path).resolve())
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seawall-digest")
        key = (resolved, offset, size)
        future = _futures.get(key)
        if future is None:
            future = _futures[key] = _pool.submit(_hash_range, resolved, offset, size)
        return future


def is_uncompressed(path: str, offset: int) -> bool:
    """True if the bytes at ``offset`` are not gzip or zstd (an uncompressed tar)."""
    try:
        with open(path, "rb") as file:
            file.seek(offset)
            head = file.read(4)
    except OSError:
        return False
    return bool(head) and not is_compressed(head)


def start_archive(path: str) -> None:
    """Queue the digests of the large uncompressed tar members of the plain tar ``path``
    (best effort: any problem is left for the real reader to report)."""
    try:
        with open(path, "rb") as file:
            if not is_tar(file.read(HEAD_SIZE)):
                return
            file.seek(0)
            with mmap.mmap(file.fileno(), 0, prot=mmap.PROT_READ) as mapped:
                view = memoryview(mapped)
                try:
                    members = [
                        (entry.offset, entry.size)
                        for entry in iter_tar(WindowSource(view, 0, len(view)))
                        if entry.is_file
                        and entry.size >= _MIN_MEMBER
                        and is_tar(view[entry.offset : entry.offset + HEAD_SIZE].tobytes())
                    ]
                finally:
                    view.release()
    except Exception:
        return
    for offset, size in members:
        ensure(path, offset, size)


def start_for_arguments(arguments: list[str]) -> None:
    """:func:`start_archive` for every argument naming an existing file."""
    for argument in arguments:
        if not argument.startswith("-") and Path(argument).is_file():
            start_archive(argument)
