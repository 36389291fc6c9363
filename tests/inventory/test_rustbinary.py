"""The cargo-auditable analyzer on a real auditable binary (see fixtures/.../SOURCES.md).

``uvx`` from the uv 0.13.9 wheel on PyPI is built with ``cargo auditable`` (sparsified: only
its headers and ``.dep-v0`` are kept). Edge cases put other payloads into its ``.dep-v0``
section (appended to the file, section header re-pointed).
"""

from __future__ import annotations

import contextlib
import io
import json
import lzma
import struct
import zlib
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.inventory.analyzer import AnalyzerIndex
from seawall.inventory.analyzers._elf import ElfFile
from seawall.inventory.analyzers.rustbinary import RustBinaryAnalyzer
from seawall.model import Ecosystem, Package

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory"


@cache
def uvx() -> bytes:
    return lzma.decompress((FIXTURES / "rustbinary" / "uvx-0.13.9-sparse.xz").read_bytes())


def analyze(blob: bytes, path: str = "usr/bin/uvx") -> list[Package]:
    return RustBinaryAnalyzer().analyze(path, io.BytesIO(blob)).packages


def with_section(payload: bytes) -> bytes:
    """uvx with its .dep-v0 section replaced by ``payload``."""
    blob = uvx()
    elf = ElfFile(io.BytesIO(blob))
    index = [s.name for s in elf.sections].index(".dep-v0")
    (shoff,) = struct.unpack_from("<Q", blob, 0x28)
    edited = bytearray(blob) + payload
    struct.pack_into("<QQ", edited, shoff + 64 * index + 24, len(blob), len(payload))
    return bytes(edited)


def test_real_auditable_binary() -> None:
    packages = analyze(uvx())
    # 446 runtime crates from crates.io plus the root package; 35 build-time crates and 85
    # local workspace members are left out.
    assert len(packages) == 447
    found = {(p.name, p.version) for p in packages}
    assert ("uv", "0.13.9") in found  # the root, although its source is "local"
    assert ("aho-corasick", "1.1.4") in found
    assert ("tokio", "1.53.2") in found
    assert ("rustls", "0.23.46") in found
    assert ("autocfg", "1.5.0") not in found  # build-time only
    assert ("cc", "1.2.57") not in found  # build-time only
    assert not any(name == "uv-auth" for name, _ in found)  # workspace member
    assert packages[0] == Package(
        ecosystem=Ecosystem.CARGO, name="adler2", version="2.0.1", path="usr/bin/uvx"
    )
    assert {p.path for p in packages} == {"usr/bin/uvx"}


def test_source_and_kind_policy() -> None:
    info = {
        "packages": [
            {"name": "app", "version": "1.0.0", "source": "local", "root": True},
            {"name": "helper", "version": "0.1.0", "source": "local"},
            {"name": "serde", "version": "1.0.200", "source": "crates.io"},
            {"name": "serde_derive", "version": "1.0.200", "source": "crates.io", "kind": "build"},
            {"name": "private", "version": "2.0.0", "source": "registry", "kind": "runtime"},
            {"name": "forked", "version": "0.3.0", "source": "git"},
        ],
        "format": 1,
    }
    blob = with_section(zlib.compress(json.dumps(info).encode()))
    assert sorted((p.name, p.version) for p in analyze(blob)) == [
        ("app", "1.0.0"),
        ("forked", "0.3.0"),
        ("private", "2.0.0"),
        ("serde", "1.0.200"),
    ]


def test_zlib_bomb_is_bounded() -> None:
    bomb = zlib.compress(b" " * (64 * 1024 * 1024), 9)
    assert len(bomb) < 100_000
    with pytest.raises(ValueError, match="inflates to more than"):
        analyze(with_section(bomb))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not zlib at all", "bad zlib data"),
        (zlib.compress(b"{not json"), "bad JSON"),
        (zlib.compress(b'{"format": 1}'), "bad JSON"),
        (zlib.compress(b'{"packages": [{"name": 1, "version": "1"}]}'), "bad JSON"),
    ],
)
def test_bad_payloads(payload: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        analyze(with_section(payload))


def test_other_files_are_ignored() -> None:
    go = lzma.decompress((FIXTURES / "gobinary" / "hello-linux-amd64.xz").read_bytes())
    assert analyze(go) == []
    assert analyze(Path("/bin/true").read_bytes()) == []
    assert analyze(b"#!/bin/sh\n") == []
    assert analyze(b"") == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=8)
)
def test_mutated_binary_fails_cleanly(edits: list[tuple[int, int]]) -> None:
    """Mutate the ELF header, the section table and the compressed section."""
    blob = bytearray(uvx())
    elf = ElfFile(io.BytesIO(bytes(blob)))
    section = elf.section(".dep-v0")
    assert section is not None
    (shoff,) = struct.unpack_from("<Q", blob, 0x28)
    hot = [*range(64), *range(shoff, len(blob)), *range(section.offset, section.offset + 64)]
    for index, value in edits:
        blob[hot[index % len(hot)]] = value
    with contextlib.suppress(ValueError):
        analyze(bytes(blob))


def test_wants_every_executable() -> None:
    index = AnalyzerIndex([RustBinaryAnalyzer()])
    assert [a.name for a in index.candidates("usr/bin/rg", True)] == ["rust-binary"]
    assert index.candidates("usr/bin/rg", False) == []
