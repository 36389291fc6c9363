"""Rust crates compiled into an executable, from the ``cargo auditable`` dependency list.

``cargo auditable build`` embeds the resolved dependency tree of a Rust binary as
zlib-compressed JSON in an ELF section named ``.dep-v0``::

    {"packages": [{"name": "aho-corasick", "version": "1.1.4", "source": "crates.io",
                   "kind": "build", "dependencies": [223], "root": true}, ...]}

Reported packages (ecosystem cargo, path = the binary): every crate from a registry
(``crates.io``, ``registry``) or from git, plus the root package (the binary's own crate, even
though its source is ``local``: it names the tool and its version). Other ``local`` packages
are workspace members with no published version to match, so they are skipped. Crates with
``"kind": "build"`` (build scripts, proc macros) run at compile time and are not part of the
binary, so they are skipped too.

Only ELF is read (the section table, then the one section); PE and Mach-O binaries are not.
Decompression is capped, so a zlib bomb in the section costs a bounded amount of memory.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO, ClassVar

import msgspec

from seawall.inventory.analyzer import Analyzer, AnalyzerOutput, MiB, SharedParses, register
from seawall.inventory.analyzers._elf import ElfFile, executable_kind
from seawall.model import Ecosystem, Package

SECTION = ".dep-v0"
_MAX_COMPRESSED = 8 * MiB
_MAX_JSON = 32 * MiB


class AuditablePackage(msgspec.Struct):
    """One entry of the ``packages`` list; unknown keys are ignored."""

    name: str
    version: str
    source: str = ""
    kind: str = "runtime"
    root: bool = False


class AuditableInfo(msgspec.Struct):
    """The top-level object of the ``.dep-v0`` JSON."""

    packages: list[AuditablePackage]


_DECODER = msgspec.json.Decoder(AuditableInfo)


def decompress_bounded(blob: bytes, limit: int) -> bytes:
    """Inflate a zlib stream, raising ValueError if the result would exceed ``limit`` bytes."""
    inflater = zlib.decompressobj()
    try:
        result = inflater.decompress(blob, limit + 1)
    except zlib.error as exc:
        raise ValueError(f"bad zlib data in {SECTION}: {exc}") from None
    if len(result) > limit:
        raise ValueError(f"{SECTION} inflates to more than {limit} bytes")
    return result


def wanted(package: AuditablePackage) -> bool:
    """Whether a listed crate is reported (see the module docstring for why)."""
    if package.kind == "build":
        return False
    return package.root or package.source != "local"


@register
class RustBinaryAnalyzer(Analyzer):
    """Crates listed in the ``.dep-v0`` section of binaries built with cargo-auditable."""

    name: ClassVar[str] = "rust-binary"
    max_size: ClassVar[int] = 512 * MiB
    executables: ClassVar[bool] = True

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        """Report the crates of a cargo-auditable binary (nothing for other files)."""
        return self.analyze_shared(path, data, SharedParses(data))

    def analyze_shared(self, path: str, data: BinaryIO, shared: SharedParses) -> AnalyzerOutput:
        """:meth:`analyze`, with the ELF tables parsed once for every analyzer of the file."""
        output = AnalyzerOutput()
        data.seek(0)
        if executable_kind(data.read(4)) != "elf":
            return output
        elf = shared.get(ElfFile)
        section = elf.section(SECTION)
        if section is None:
            return output
        blob = elf.read_section(section, _MAX_COMPRESSED)
        try:
            info = _DECODER.decode(decompress_bounded(blob, _MAX_JSON))
        except msgspec.DecodeError as exc:
            raise ValueError(f"bad JSON in {SECTION}: {exc}") from None
        for package in info.packages:
            if wanted(package):
                output.packages.append(
                    Package(
                        ecosystem=Ecosystem.CARGO,
                        name=package.name,
                        version=package.version,
                        path=path,
                    )
                )
        return output
