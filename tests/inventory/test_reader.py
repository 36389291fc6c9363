"""InventoryReader as a library: one pool of worker processes reused across reads, from
several threads, closed on demand; layer analysis shares per-file parses, not globals."""

from __future__ import annotations

import io
import lzma
import multiprocessing
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import seawall.inventory.scan
from seawall.image.tarreader import StreamSource
from seawall.inventory.analyzer import AnalyzerIndex
from seawall.inventory.analyzers import _elf, gobinary, rustbinary
from seawall.inventory.layer import read_layer
from seawall.inventory.scan import InventoryOptions, InventoryReader
from seawall.model import Inventory
from tests.support.imagebuild import layer_tar, write_docker_archive, write_oci_layout
from tests.support.sample import EXPECTED, sample_image

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory"


def summary(inventory: Inventory) -> set[tuple[str, str, str, int]]:
    layer_of = {layer.digest: layer.index for layer in inventory.image.layers}
    return {
        (p.ecosystem.value, p.name, p.version, layer_of[p.layer_digest]) for p in inventory.packages
    }


def workers() -> set[int | None]:
    """The reader's worker processes (the policy engine's, named ``seawall-policy``, may be
    alive from other tests in this process)."""
    return {
        child.pid for child in multiprocessing.active_children() if child.name != "seawall-policy"
    }


@pytest.fixture
def images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """Two images whose every layer counts as large, so workers read them."""
    monkeypatch.setattr(seawall.inventory.scan, "PARALLEL_THRESHOLD", 0)
    archive = write_docker_archive(sample_image(), tmp_path / "image.tar")
    layout = write_oci_layout(sample_image(), tmp_path / "layout")
    return str(archive), str(layout)


def test_the_pool_is_reused_across_reads_and_closed_after(images: tuple[str, str]) -> None:
    assert not workers()
    with InventoryReader(workers=2) as reader:
        assert summary(reader.read(images[0], InventoryOptions())) == EXPECTED
        started = workers()
        assert len(started) == 2
        assert summary(reader.read(images[1], InventoryOptions())) == EXPECTED
        assert workers() == started  # the same processes read the second image
    assert not workers()  # closing the reader stopped them
    with pytest.raises(RuntimeError, match="closed"):
        reader.read(images[0], InventoryOptions())


def test_one_worker_means_no_process(images: tuple[str, str]) -> None:
    with InventoryReader(workers=1) as reader:
        assert summary(reader.read(images[0], InventoryOptions())) == EXPECTED
        assert not workers()


def test_reads_from_several_threads_share_the_pool(images: tuple[str, str]) -> None:
    with InventoryReader(workers=2) as reader, ThreadPoolExecutor(4) as threads:
        reads = [threads.submit(reader.read, images[i % 2], InventoryOptions()) for i in range(8)]
        assert all(summary(read.result()) == EXPECTED for read in reads)
        assert len(workers()) == 2
    assert not workers()


def test_a_worker_killed_between_reads_does_not_break_the_reader(
    images: tuple[str, str],
) -> None:
    with InventoryReader(workers=2) as reader:
        reader.read(images[0], InventoryOptions())
        os.kill(next(iter(workers())), signal.SIGKILL)  # type: ignore[arg-type]
        deadline = time.monotonic() + 30
        while workers() and time.monotonic() < deadline:  # the broken pool stops the rest
            time.sleep(0.05)
        assert summary(reader.read(images[1], InventoryOptions())) == EXPECTED


def test_go_and_rust_analyzers_parse_an_executable_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[object] = []

    class CountingElfFile(_elf.ElfFile):
        def __init__(self, data: io.BytesIO) -> None:  # type: ignore[override]
            parsed.append(data)
            super().__init__(data)

    monkeypatch.setattr(gobinary, "ElfFile", CountingElfFile)
    monkeypatch.setattr(rustbinary, "ElfFile", CountingElfFile)
    hello = lzma.decompress((FIXTURES / "gobinary" / "hello-linux-amd64.xz").read_bytes())
    index = AnalyzerIndex([gobinary.GoBinaryAnalyzer(), rustbinary.RustBinaryAnalyzer()])
    tar = layer_tar({"usr/bin/hello": hello, "usr/local/bin/again": hello})
    result = read_layer(StreamSource(io.BytesIO(tar)), index)
    assert {p.name for p in result.outputs["usr/bin/hello"].packages} >= {"stdlib"}
    assert len(parsed) == 2  # one parse per file, shared by both analyzers
