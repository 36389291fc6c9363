"""DigestPrefetcher: digests keyed by the file's state, owned by one read, nothing shared."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from seawall.image import digests
from seawall.image.digests import DigestPrefetcher
from seawall.inventory.scan import InventoryOptions, build_inventory
from tests.support.imagebuild import Layer, write_docker_archive
from tests.support.sample import sample_image


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("seawall-digest")]


@pytest.fixture
def hashed_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every range any prefetcher hashes from now on."""
    sizes: list[int] = []
    real = DigestPrefetcher._hash_range

    def counting(self: DigestPrefetcher, mapped: object, offset: int, size: int) -> str:
        sizes.append(size)
        return real(self, mapped, offset, size)  # type: ignore[arg-type]

    monkeypatch.setattr(DigestPrefetcher, "_hash_range", counting)
    return sizes


def test_a_file_rewritten_in_place_gets_a_fresh_digest(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"a" * 4096)
    with DigestPrefetcher() as prefetcher:
        assert prefetcher.digest(str(path), 0, 4096).result() == sha(b"a" * 4096)
        with path.open("r+b") as file:  # same inode, same size, new content
            file.write(b"b" * 4096)
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # coarse clocks
        assert prefetcher.digest(str(path), 0, 4096).result() == sha(b"b" * 4096)


def test_a_file_replaced_under_its_name_gets_a_fresh_digest(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"a" * 4096)
    with DigestPrefetcher() as prefetcher:
        assert prefetcher.digest(str(path), 0, 4096).result() == sha(b"a" * 4096)
        stat = path.stat()
        replacement = tmp_path / "new"
        replacement.write_bytes(b"c" * 4096)
        os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even the same mtime
        replacement.replace(path)  # a new inode
        assert prefetcher.digest(str(path), 0, 4096).result() == sha(b"c" * 4096)


def test_a_range_asked_twice_is_hashed_once(tmp_path: Path, hashed_sizes: list[int]) -> None:
    path = tmp_path / "blob"
    path.write_bytes(os.urandom(10_000))
    with DigestPrefetcher() as prefetcher:
        first = prefetcher.digest(str(path), 100, 5000)
        with path.open("rb") as file:
            second = prefetcher.digest(file.fileno(), 100, 5000)  # by descriptor: same file
        assert first is second
        assert first.result() == sha(path.read_bytes()[100:5100])
        assert prefetcher.digest(str(path), 0, 0).result() == sha(b"")
    assert hashed_sizes == [5000, 0]


def test_two_prefetchers_share_no_digest(tmp_path: Path, hashed_sizes: list[int]) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"x" * 8192)
    with DigestPrefetcher() as one, DigestPrefetcher() as other:
        assert one.digest(str(path), 0, 8192).result() == other.digest(str(path), 0, 8192).result()
        one.close()
        assert other.digest(str(path), 0, 100).result() == sha(b"x" * 100)
    assert hashed_sizes == [8192, 8192, 100]


def test_two_scans_in_one_process_share_no_digest_state(
    tmp_path: Path, hashed_sizes: list[int]
) -> None:
    image = sample_image()
    image.layers.append(Layer({"opt/data.bin": b"\1" * (2 << 20)}, created_by="ADD data"))
    archive = str(write_docker_archive(image, tmp_path / "image.tar"))
    first = build_inventory(archive, InventoryOptions())
    hashed_once = list(hashed_sizes)
    assert not digest_threads()  # the read's own prefetcher is closed with it
    second = build_inventory(archive, InventoryOptions())
    assert first == second
    assert hashed_sizes == hashed_once * 2  # every layer hashed again, nothing remembered
    assert not digest_threads()
    state = [
        name
        for name, value in vars(digests).items()
        if isinstance(value, (dict, list, set)) and not name.startswith("__")
    ]
    assert state == []  # no module-level memo


def test_close_ends_the_thread_and_refuses_new_work(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"y" * (64 << 20))
    prefetcher = DigestPrefetcher()
    running = prefetcher.digest(str(path), 0, 64 << 20)
    queued = prefetcher.digest(str(path), 0, 32 << 20)
    prefetcher.close()
    assert not digest_threads()
    assert queued.cancelled() or queued.done()
    assert running.done()  # finished, or stopped at a chunk boundary with an error
    with pytest.raises(RuntimeError):
        prefetcher.digest(str(path), 0, 10)
    prefetcher.close()  # idempotent


def test_start_archive_ignores_what_is_not_a_plain_tar(tmp_path: Path) -> None:
    gzipped = write_docker_archive(sample_image(), tmp_path / "image.tar.gz", compress=True)
    with DigestPrefetcher() as prefetcher:
        prefetcher.start_for_arguments([str(gzipped), str(tmp_path / "missing"), "--flag"])
    assert not digest_threads()  # nothing was queued, so no thread ever started
