"""The fast tar reader agrees with tarfile on real archives and refuses hostile ones."""

from __future__ import annotations

import contextlib
import io
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.errors import ImageFormatError, SeawallError, UnsafeInputError
from seawall.image.tarreader import (
    StreamSource,
    WindowSource,
    iter_tar,
    read_entry,
    safe_member_path,
)
from tests.support.imagebuild import layer_tar


def _entries(data: bytes) -> list[tuple[str, str, int, str]]:
    return [
        (e.name.rstrip("/"), e.type, e.size, e.linkname)
        for e in iter_tar(StreamSource(io.BytesIO(data)))
    ]


def test_reads_names_types_sizes_and_links_like_tarfile(tmp_path: Path) -> None:
    long_name = "usr/lib/" + "x" * 150 + "/file.txt"  # needs a PAX or GNU long name
    data = layer_tar(
        {
            "etc/os-release": b"ID=debian\n",
            long_name: b"long",
            "bin/sh": ("symlink", "busybox"),
            "bin/ls": ("hardlink", "bin/sh"),
            "var/empty": ("dir", ""),
        }
    )
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        expected = [(m.name, m.type.decode(), m.size, m.linkname) for m in tar]
    assert _entries(data) == expected
    window = [
        (e.name.rstrip("/"), e.size) for e in iter_tar(WindowSource(memoryview(data), 0, len(data)))
    ]
    assert window == [(n, s) for n, _, s, _ in expected]


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT, tarfile.PAX_FORMAT])
def test_every_tar_flavour_docker_writes(fmt: int) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        info = tarfile.TarInfo("a/b/c.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    source = StreamSource(io.BytesIO(buffer.getvalue()))
    entries = list(iter_tar(source))
    assert [(e.name, e.size) for e in entries] == [("a/b/c.txt", 3)]


def test_content_can_be_read_right_after_the_entry() -> None:
    source = StreamSource(io.BytesIO(layer_tar({"a": b"first", "b": b"second"})))
    seen = {e.name: read_entry(source, e, 100) for e in iter_tar(source)}
    assert seen == {"a": b"first", "b": b"second"}


def test_truncated_archive_is_an_error() -> None:
    data = layer_tar({"big": b"x" * 5000})
    with pytest.raises(ImageFormatError, match="truncated"):
        _entries(data[:2000])


def test_garbage_is_not_a_tar() -> None:
    with pytest.raises(ImageFormatError, match="not a tar"):
        _entries(b"this is not a tar archive at all" * 40)


def test_huge_declared_size_in_a_small_archive_is_truncation() -> None:
    info = tarfile.TarInfo("huge")
    info.size = 1 << 40
    header = info.tobuf(tarfile.GNU_FORMAT)
    with pytest.raises(ImageFormatError, match="truncated"):
        _entries(header + b"\0" * 1024)


def test_content_over_the_limit_is_refused() -> None:
    source = StreamSource(io.BytesIO(layer_tar({"f": b"x" * 2000})))
    entry = next(iter(iter_tar(source)))
    with pytest.raises(UnsafeInputError):
        read_entry(source, entry, 1000)


@pytest.mark.parametrize("name", ["../etc/passwd", "a/../../etc", "/etc/passwd", ".."])
def test_escaping_member_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafeInputError):
        safe_member_path(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("./usr/bin/x", "usr/bin/x"), ("a/./b//c", "a/b/c"), ("a/b/../c", "a/c"), ("./", "")],
)
def test_member_names_are_normalised(name: str, expected: str) -> None:
    assert safe_member_path(name) == expected


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    with contextlib.suppress(SeawallError):
        _entries(data)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=3071), st.integers(min_value=0, max_value=255))
def test_single_byte_corruption_is_handled(position: int, value: int) -> None:
    data = bytearray(layer_tar({"etc/os-release": b"ID=x\n", "usr/bin/tool": b"\x7fELF" * 100}))
    data[position % len(data)] = value
    with contextlib.suppress(SeawallError):
        _entries(bytes(data))
