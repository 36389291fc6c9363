"""The Go binary analyzer on real Go executables (see fixtures/inventory/gobinary/SOURCES.md).

Fixtures are xz-compressed. ``*-sparse`` ones are real binaries with every byte the build
information does not need zeroed (``sparsify.py``; ``go version -m`` still reads them).
"""

from __future__ import annotations

import contextlib
import io
import lzma
import os
import shutil
import struct
import subprocess
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.inventory.analyzer import AnalyzerIndex
from seawall.inventory.analyzers.gobinary import (
    GoBinaryAnalyzer,
    parse_modinfo,
    stdlib_version,
)
from seawall.model import Ecosystem, Package

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory" / "gobinary"
HELLO = [("example.com/greet", "v1.2.3"), ("example.com/new", "v1.0.0"), ("stdlib", "1.19.8")]


@cache
def fixture(name: str) -> bytes:
    return lzma.decompress((FIXTURES / f"{name}.xz").read_bytes())


def analyze(blob: bytes, path: str = "usr/local/bin/tool") -> list[Package]:
    output = GoBinaryAnalyzer().analyze(path, io.BytesIO(blob))
    assert output.warnings == []
    return output.packages


def versions(packages: list[Package]) -> list[tuple[str, str]]:
    return sorted((p.name, p.version) for p in packages)


def test_module_binary_with_replacements() -> None:
    # main module "(devel)" is dropped, example.com/old => example.com/new v1.0.0 applies,
    # example.com/local => ./local (a directory) is dropped.
    packages = analyze(fixture("hello-linux-amd64"), "app/hello")
    assert versions(packages) == HELLO
    assert packages[0] == Package(
        ecosystem=Ecosystem.GOLANG, name="stdlib", version="1.19.8", path="app/hello"
    )
    assert {p.ecosystem for p in packages} == {Ecosystem.GOLANG}
    assert {p.path for p in packages} == {"app/hello"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # Go 1.18+ inline layout: ELF 32-bit little-endian, 32-bit big-endian, PE, Mach-O.
        ("hello-linux-386-sparse", HELLO),
        ("hello-linux-mips-sparse", HELLO),
        ("hello-windows-amd64-sparse", HELLO),
        ("hello-darwin-arm64-sparse", HELLO),
        (
            "esbuild-0.19.11-linux-amd64-sparse",
            [("golang.org/x/sys", "v0.0.0-20220715151400-c0bba94af5f8"), ("stdlib", "1.20.12")],
        ),
        # Pre-1.18 pointer layout: 64-bit LE (go1.16), 32-bit LE (go1.17.1), 64-bit BE s390x.
        (
            "esbuild-0.8.57-linux-amd64-sparse",
            [("golang.org/x/sys", "v0.0.0-20200501145240-bc7a7d42d5c3"), ("stdlib", "1.16.0")],
        ),
        (
            "esbuild-0.13.0-linux-386-sparse",
            [("golang.org/x/sys", "v0.0.0-20210908233432-aa78b53d3365"), ("stdlib", "1.17.1")],
        ),
        (
            "esbuild-0.14.8-linux-s390x-sparse",
            [("golang.org/x/sys", "v0.0.0-20210908233432-aa78b53d3365"), ("stdlib", "1.17.5")],
        ),
        # Debian builds in GOPATH mode: no module lines, only the toolchain.
        ("age-keygen-1.1.1-sparse", [("stdlib", "1.19.8")]),
    ],
)
def test_real_binaries(name: str, expected: list[tuple[str, str]]) -> None:
    assert versions(analyze(fixture(name))) == expected


class CountingReader(io.BytesIO):
    """A stream that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


def test_non_go_elf_is_cheap() -> None:
    """A non-Go ELF (uvx, Rust; 330 KB): only the header tables are read."""
    uvx = lzma.decompress((FIXTURES.parent / "rustbinary" / "uvx-0.13.9-sparse.xz").read_bytes())
    assert uvx.startswith(b"\x7fELF")
    reader = CountingReader(uvx)
    assert GoBinaryAnalyzer().analyze("usr/bin/uvx", reader).packages == []
    assert reader.consumed < 8 * 1024


def test_true_is_not_go() -> None:
    assert analyze(Path("/bin/true").read_bytes()) == []


@pytest.mark.parametrize("blob", [b"", b"#!/bin/sh\necho hi\n", b"\x7fEL", b"PK\x03\x04" * 100])
def test_not_an_executable(blob: bytes) -> None:
    reader = CountingReader(blob)
    assert GoBinaryAnalyzer().analyze("usr/bin/x", reader).packages == []
    assert reader.consumed <= 8


def test_without_section_table_scans_data_segments() -> None:
    """sstrip-style binaries lose their section table; the data segments are scanned."""
    blob = bytearray(fixture("hello-linux-amd64"))
    struct.pack_into("<Q", blob, 0x28, 0)  # e_shoff
    struct.pack_into("<HHH", blob, 0x3A, 0, 0, 0)  # e_shentsize, e_shnum, e_shstrndx
    assert versions(analyze(bytes(blob))) == HELLO


def test_section_table_is_trusted() -> None:
    """With a section table and no .go.buildinfo, the file is not scanned for the magic."""
    blob = fixture("hello-linux-amd64").replace(b".go.buildinfo\x00", b".go.buildinfX\x00")
    assert analyze(blob) == []


def test_truncated_binary_raises_value_error() -> None:
    blob = fixture("hello-linux-amd64")
    with pytest.raises(ValueError, match="out of bounds"):
        GoBinaryAnalyzer().analyze("x", io.BytesIO(blob[: len(blob) // 2]))


@pytest.mark.parametrize(
    ("runtime", "expected"),
    [
        ("go1.21.5", "1.21.5"),
        ("go1.20", "1.20.0"),
        ("go1.22rc1", "1.22.0-rc.1"),
        ("go1.18beta2", "1.18.0-beta.2"),
        ("go1.21.5 X:boringcrypto", "1.21.5"),
        ("devel go1.22-6bd8e5b Mon Jan 1 00:00:00 2024 +0000", ""),
        ("", ""),
    ],
)
def test_stdlib_version(runtime: str, expected: str) -> None:
    assert stdlib_version(runtime) == expected


def test_parse_modinfo_applies_replacements() -> None:
    modinfo = (
        "path\texample.com/app\n"
        "mod\texample.com/app\tv1.4.0\th1:abc=\n"
        "dep\tgithub.com/a/b\tv0.1.0\th1:x=\n"
        "=>\tgithub.com/fork/b\tv0.1.1\th1:y=\n"
        "dep\tgolang.org/x/text\tv0.14.0\th1:z=\n"
        "build\t-compiler=gc\n"
    )
    assert parse_modinfo(modinfo) == [
        ("example.com/app", "v1.4.0"),
        ("github.com/fork/b", "v0.1.1"),
        ("golang.org/x/text", "v0.14.0"),
    ]


def test_wants_every_executable() -> None:
    index = AnalyzerIndex([GoBinaryAnalyzer()])
    assert [a.name for a in index.candidates("usr/local/bin/kubectl", True)] == ["go-binary"]
    assert index.candidates("usr/local/bin/kubectl", False) == []


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("go") is None, reason="needs the Go toolchain (golang-go)")
def test_freshly_built_binary(tmp_path: Path) -> None:
    """Build the fixture program offline with the installed Go and read it back."""
    env = dict(os.environ, GOFLAGS="-mod=vendor", GOPROXY="off", CGO_ENABLED="0")
    out = tmp_path / "hello"
    subprocess.run(
        ["go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", str(out), "."],
        cwd=FIXTURES / "src",
        env=env,
        check=True,
    )
    go_version = subprocess.run(
        ["go", "env", "GOVERSION"], capture_output=True, text=True, check=True
    ).stdout.strip()
    expected = [*HELLO[:2], ("stdlib", stdlib_version(go_version))]
    assert versions(analyze(out.read_bytes())) == sorted(expected)


MUTABLE = [
    "hello-linux-amd64",
    "esbuild-0.8.57-linux-amd64-sparse",
    "esbuild-0.14.8-linux-s390x-sparse",
    "hello-windows-amd64-sparse",
]


def _header_and_buildinfo(blob: bytes) -> list[int]:
    """Offsets worth mutating: the ELF/PE headers and the build-info blob."""
    at = blob.find(b"\xff Go buildinf:")
    return [*range(0, 256), *range(at, at + 64)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(MUTABLE),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_mutated_binaries_fail_cleanly(name: str, edits: list[tuple[int, int]]) -> None:
    blob = bytearray(fixture(name))
    offsets = _header_and_buildinfo(bytes(blob))
    for index, value in edits:
        blob[offsets[index % len(offsets)]] = value
    with contextlib.suppress(ValueError):
        GoBinaryAnalyzer().analyze("x", io.BytesIO(bytes(blob)))


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from([b"\x7fELF\x02\x01", b"\x7fELF\x01\x02", b"MZ", b"\xcf\xfa\xed\xfe"]),
    body=st.binary(max_size=512),
    magic_at=st.integers(0, 32),
)
def test_random_executables_fail_cleanly(prefix: bytes, body: bytes, magic_at: int) -> None:
    blob = prefix + body
    at = magic_at * 16
    blob = blob[:at].ljust(at, b"\0") + b"\xff Go buildinf:" + blob[at:]
    with contextlib.suppress(ValueError):
        GoBinaryAnalyzer().analyze("x", io.BytesIO(blob))
