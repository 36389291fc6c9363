"""Go modules compiled into an executable, from the build information the Go linker embeds.

Since Go 1.13 every module-mode binary carries a ``.go.buildinfo`` blob: a 32-byte header
starting with the magic ``\\xff Go buildinf:``, then the Go runtime version and the "modinfo"
text that ``go version -m`` prints (``path``, ``mod``, ``dep``, ``=>`` and ``build`` lines).
Two layouts exist:

* Go 1.18+ (header flag bit 2 set): both strings follow the header inline, each prefixed with
  its length as an unsigned varint.
* Older: the header holds two pointers (virtual addresses) to Go string headers (data pointer
  and length), which must be translated to file offsets through the ELF program headers.

ELF files are located through the section table (``.go.buildinfo``); when a binary has no
section table, its first writable data segment is scanned for the 16-byte-aligned magic, as
``debug/buildinfo`` does. PE and Mach-O files are scanned whole for the magic and only the
inline (Go 1.18+) layout is decoded there; the pointer layout gets a warning. Anything that is
not an ELF, PE or Mach-O file is dismissed after reading its first bytes, and an ELF file whose
section table has no ``.go.buildinfo`` after reading only its header tables.

Reported packages (ecosystem golang, path = the binary):

* ``stdlib`` at the toolchain version, ``go1.21.5`` -> ``1.21.5`` (the name and version form
  the OSV Go database uses for the standard library; ``go1.20`` -> ``1.20.0``,
  ``go1.22rc1`` -> ``1.22.0-rc.1``; development toolchains are not reported).
* each ``dep`` module at its version as written (``v1.2.3``, pseudo-versions). A ``=>``
  replacement applies: the replacing module's path and version are reported. A replacement by
  a local directory has no version and is not reported (the code is not any published module).
* the main module (``mod``) only when it has a real version: ``(devel)`` (plain ``go build`` in
  a checkout) means "unknown", which no advisory can be matched against, so it is skipped.
"""

from __future__ import annotations

import re
import struct
from typing import BinaryIO, ClassVar

from seawall.inventory.analyzer import Analyzer, AnalyzerOutput, MiB, SharedParses, register
from seawall.inventory.analyzers._elf import ElfFile, executable_kind, file_size, read_at
from seawall.model import Ecosystem, Package

MAGIC = b"\xff Go buildinf:"
HEADER_SIZE = 32
FLAG_BIG_ENDIAN = 1
FLAG_INLINE = 2
_MAX_STRING = 8 * MiB
_SCAN_CHUNK = 4 * MiB
_GO_VERSION = re.compile(r"go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?")


def find_magic(data: BinaryIO, start: int, end: int) -> int | None:
    """Offset of the first 16-byte-aligned build-info magic in ``data[start:end]``, or None.

    Reads in bounded chunks that overlap by the magic's length, so memory stays constant.
    """
    pos = start
    while pos < end:
        data.seek(pos)
        chunk = data.read(min(_SCAN_CHUNK + len(MAGIC), end - pos))
        if not chunk:
            return None
        hit = chunk.find(MAGIC)
        while hit >= 0:
            if (pos + hit) % 16 == 0:
                return pos + hit
            hit = chunk.find(MAGIC, hit + 1)
        pos += _SCAN_CHUNK
    return None


def _read_varint_string(data: BinaryIO, offset: int) -> tuple[bytes, int]:
    """Decode a uvarint length and that many bytes at ``offset``; return them and the end."""
    data.seek(offset)
    prefix = data.read(10)
    length = shift = 0
    for i, byte in enumerate(prefix):
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            start = offset + i + 1
            break
        shift += 7
    else:
        raise ValueError("bad varint in Go build info")
    if length > _MAX_STRING:
        raise ValueError(f"Go build info string too long ({length} bytes)")
    return read_at(data, start, length), start + length


def _read_pointer_string(elf: ElfFile, address: int, ptr_size: int, endian: str) -> bytes:
    """Read a Go string header (data pointer, length) at ``address`` and then its bytes."""
    fmt = endian + ("QQ" if ptr_size == 8 else "II")
    header = read_at(elf.data, elf.va_to_offset(address, 2 * ptr_size), 2 * ptr_size)
    pointer, length = struct.unpack(fmt, header)
    if length > _MAX_STRING:
        raise ValueError(f"Go build info string too long ({length} bytes)")
    return read_at(elf.data, elf.va_to_offset(pointer, length), length)


def read_build_info(data: BinaryIO, offset: int, elf: ElfFile | None) -> tuple[str, str]:
    """The (runtime version, modinfo) of the build-info header at ``offset``.

    ``elf`` is needed for the pre-1.18 pointer layout; without it that layout raises ValueError.
    """
    header = read_at(data, offset, HEADER_SIZE)
    if not header.startswith(MAGIC):
        raise ValueError("Go build info magic not found")
    ptr_size, flags = header[14], header[15]
    if flags & FLAG_INLINE:
        version, end = _read_varint_string(data, offset + HEADER_SIZE)
        modinfo, _ = _read_varint_string(data, end)
    else:
        if ptr_size not in (4, 8):
            raise ValueError(f"bad pointer size {ptr_size} in Go build info")
        if elf is None:
            raise ValueError("pre-Go 1.18 build info is only decoded in ELF files")
        endian = ">" if flags & FLAG_BIG_ENDIAN else "<"
        fmt = endian + ("Q" if ptr_size == 8 else "I")
        (version_at,) = struct.unpack_from(fmt, header, 16)
        (modinfo_at,) = struct.unpack_from(fmt, header, 16 + ptr_size)
        version = _read_pointer_string(elf, version_at, ptr_size, endian)
        modinfo = _read_pointer_string(elf, modinfo_at, ptr_size, endian)
    # The linker wraps modinfo in two 16-byte sentinels; strip them as debug/buildinfo does.
    wrapped = len(modinfo) >= 33 and modinfo[-17] == ord("\n")
    modinfo = modinfo[16:-16] if wrapped else b""
    return version.decode("utf-8", "replace"), modinfo.decode("utf-8", "replace")


def stdlib_version(runtime_version: str) -> str:
    """The OSV form of a Go toolchain version (``go1.21.5`` -> ``1.21.5``); "" if not a release.

    Extra words after the version (``go1.21.5 X:boringcrypto``) are ignored.
    """
    match = _GO_VERSION.fullmatch(runtime_version.split(" ", 1)[0])
    if not match:
        return ""
    major, minor, patch, pre, pre_number = match.groups()
    version = f"{major}.{minor}.{patch or 0}"
    return f"{version}-{pre}.{pre_number}" if pre else version


def parse_modinfo(modinfo: str) -> list[tuple[str, str]]:
    """(module path, version) of the main module and each dependency, replacements applied."""
    modules: list[tuple[str, str]] = []
    for line in modinfo.splitlines():
        fields = line.split("\t")
        if len(fields) < 2:
            continue
        version = fields[2] if len(fields) > 2 else ""
        if fields[0] in ("mod", "dep"):
            modules.append((fields[1], version))
        elif fields[0] == "=>" and modules:
            modules[-1] = (fields[1], version)
    return modules


def locate(data: BinaryIO, shared: SharedParses) -> tuple[int | None, ElfFile | None]:
    """Find the build-info header: (its file offset or None, the parsed ELF file if ELF)."""
    data.seek(0)
    kind = executable_kind(data.read(8))
    if kind is None:
        return None, None
    if kind != "elf":
        return find_magic(data, 0, file_size(data)), None
    elf = shared.get(ElfFile)
    section = elf.section(".go.buildinfo")
    if section is not None:
        if section.size < HEADER_SIZE or section.offset + section.size > elf.size:
            raise ValueError("bad .go.buildinfo section")
        return section.offset, elf
    segment = elf.data_segment()
    if elf.sections or segment is None:
        return None, elf
    start, size = segment
    return find_magic(data, start, min(start + size, elf.size)), elf


@register
class GoBinaryAnalyzer(Analyzer):
    """Go stdlib and module versions embedded in Go executables."""

    name: ClassVar[str] = "go-binary"
    max_size: ClassVar[int] = 512 * MiB
    executables: ClassVar[bool] = True

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        """Report the modules a Go binary was built from (nothing for other files)."""
        return self.analyze_shared(path, data, SharedParses(data))

    def analyze_shared(self, path: str, data: BinaryIO, shared: SharedParses) -> AnalyzerOutput:
        """:meth:`analyze`, with the ELF tables parsed once for every analyzer of the file."""
        output = AnalyzerOutput()
        offset, elf = locate(data, shared)
        if offset is None:
            return output
        runtime_version, modinfo = read_build_info(data, offset, elf)
        stdlib = stdlib_version(runtime_version)
        if stdlib:
            output.packages.append(
                Package(ecosystem=Ecosystem.GOLANG, name="stdlib", version=stdlib, path=path)
            )
        for module, version in parse_modinfo(modinfo):
            if version and version != "(devel)":
                output.packages.append(
                    Package(ecosystem=Ecosystem.GOLANG, name=module, version=version, path=path)
                )
        return output
