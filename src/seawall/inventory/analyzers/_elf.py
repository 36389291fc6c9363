"""A minimal, bounded reader for ELF headers, section tables and program headers.

Shared by the Go and Rust binary analyzers, which both need a named section of an executable
(``.go.buildinfo``, ``.dep-v0``) and, for old Go binaries, the translation of a virtual address
to a file offset. Only the tables are read, never the whole file: these analyzers run on every
executable of an image, and most of them are not Go or Rust binaries. Both take the parse from
the file's :class:`~seawall.inventory.analyzer.SharedParses`, so it is made once per file (it
is about half the time these analyzers spend on an executable). Every count and size
taken from the file is checked against fixed caps and the file size, so hostile headers cannot
make it allocate much or loop for long.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO, NamedTuple

ELF_MAGIC = b"\x7fELF"
# Mach-O thin (both byte orders, 32 and 64 bit) and universal ("fat") headers.
MACHO_MAGICS = (
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)
PE_MAGIC = b"MZ"

SHT_NOBITS = 8
PT_LOAD = 1
PF_X = 1
PF_W = 2

_MAX_SECTIONS = 1 << 16
_MAX_SEGMENTS = 1 << 12
_MAX_SHSTRTAB = 4 * 1024 * 1024
_MAX_NAME = 256  # longer section names are cut (keeps hostile name tables linear)
_MAX_OFFSET = 1 << 48  # far beyond any real file, below what seek() can take


class Section(NamedTuple):
    """One entry of the section header table, with its name resolved."""

    name: str
    type: int
    addr: int
    offset: int
    size: int


class Segment(NamedTuple):
    """One entry of the program header table."""

    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int


def executable_kind(head: bytes) -> str | None:
    """Name the executable format of a file from its first bytes: "elf", "pe", "macho" or None."""
    if head.startswith(ELF_MAGIC):
        return "elf"
    if head.startswith(PE_MAGIC):
        return "pe"
    if head[:4] in MACHO_MAGICS:
        return "macho"
    return None


def file_size(data: BinaryIO) -> int:
    """The size of a seekable stream, leaving its position at the end."""
    return data.seek(0, os.SEEK_END)


def read_at(data: BinaryIO, offset: int, size: int) -> bytes:
    """Read exactly ``size`` bytes at ``offset``; raise ValueError if the file is shorter."""
    if offset < 0 or size < 0 or offset + size > _MAX_OFFSET:
        raise ValueError(f"bad offset or size ({offset}, {size})")
    data.seek(offset)
    chunk = data.read(size)
    if len(chunk) != size:
        raise ValueError(f"truncated file: wanted {size} bytes at offset {offset}")
    return chunk


class ElfFile:
    """The section and program header tables of one ELF file (32/64 bit, either byte order)."""

    def __init__(self, data: BinaryIO) -> None:
        """Parse the tables; raise ValueError if ``data`` is not a well-formed ELF file."""
        self.data = data
        self.size = file_size(data)
        ident = read_at(data, 0, 16)
        if not ident.startswith(ELF_MAGIC):
            raise ValueError("not an ELF file")
        if ident[4] not in (1, 2) or ident[5] not in (1, 2):
            raise ValueError("bad ELF class or data encoding")
        self.is64 = ident[4] == 2
        self.little = ident[5] == 1
        self.ptr_size = 8 if self.is64 else 4
        self.endian = "<" if self.little else ">"
        e = self.endian
        if self.is64:
            fields = struct.unpack(e + "HHIQQQIHHHHHH", read_at(data, 16, 48))
        else:
            fields = struct.unpack(e + "HHIIIIIHHHHHH", read_at(data, 16, 36))
        phoff, shoff = fields[4], fields[5]
        phentsize, phnum, shentsize, shnum, shstrndx = fields[8:13]
        self.segments = self._read_segments(phoff, phentsize, phnum)
        self.sections = self._read_sections(shoff, shentsize, shnum, shstrndx)

    def _table(self, offset: int, entsize: int, count: int, minimum: int, cap: int) -> bytes:
        """Read a header table after checking its geometry against the caps and file size."""
        if count > cap or entsize < minimum or offset + entsize * count > self.size:
            raise ValueError("ELF header table out of bounds")
        return read_at(self.data, offset, entsize * count)

    def _read_segments(self, phoff: int, entsize: int, count: int) -> list[Segment]:
        if phoff == 0 or count == 0:
            return []
        minimum = 56 if self.is64 else 32
        raw = self._table(phoff, entsize, count, minimum, _MAX_SEGMENTS)
        e = self.endian
        segments = []
        for i in range(count):
            base = i * entsize
            if self.is64:
                p_type, flags, offset, vaddr, _, filesz = struct.unpack_from(
                    e + "IIQQQQ", raw, base
                )
            else:
                p_type, offset, vaddr, _, filesz, _, flags = struct.unpack_from(
                    e + "IIIIIII", raw, base
                )
            segments.append(Segment(p_type, flags, offset, vaddr, filesz))
        return segments

    def _read_sections(self, shoff: int, entsize: int, count: int, strndx: int) -> list[Section]:
        if shoff == 0:
            return []
        minimum = 64 if self.is64 else 40
        if count == 0 or strndx == 0xFFFF:
            # Extended numbering: the real values live in section 0's sh_size / sh_link.
            first = self._parse_section_entries(self._table(shoff, entsize, 1, minimum, 1), 1)
            count = count or first[0][4]
            if strndx == 0xFFFF:
                strndx = first[0][5]
        if count == 0:
            return []
        raw = self._table(shoff, entsize, count, minimum, _MAX_SECTIONS)
        entries = self._parse_section_entries(raw, count, entsize)
        if strndx >= count:
            raise ValueError("ELF section name table index out of range")
        _, _, _, str_offset, str_size, _ = entries[strndx]
        if str_size > _MAX_SHSTRTAB or str_offset + str_size > self.size:
            raise ValueError("ELF section name table out of bounds")
        names = read_at(self.data, str_offset, str_size)
        sections = []
        for name_off, s_type, addr, offset, size, _ in entries:
            end = names.find(b"\0", name_off, name_off + _MAX_NAME)
            name = names[name_off : end if end >= 0 else name_off + _MAX_NAME]
            sections.append(Section(name.decode("latin-1"), s_type, addr, offset, size))
        return sections

    def _parse_section_entries(
        self, raw: bytes, count: int, entsize: int = 0
    ) -> list[tuple[int, int, int, int, int, int]]:
        """(name offset, type, addr, offset, size, link) of each raw section header."""
        step = entsize or len(raw)
        e = self.endian
        fmt = e + ("IIQQQQI" if self.is64 else "IIIIIII")
        result = []
        for i in range(count):
            name, s_type, _, addr, offset, size, link = struct.unpack_from(fmt, raw, i * step)
            result.append((name, s_type, addr, offset, size, link))
        return result

    def section(self, name: str) -> Section | None:
        """The first section called ``name`` that has bytes in the file, or None."""
        for section in self.sections:
            if section.name == name and section.type != SHT_NOBITS:
                return section
        return None

    def read_section(self, section: Section, limit: int) -> bytes:
        """The bytes of ``section``; raise ValueError if it is larger than ``limit``."""
        if section.size > limit:
            raise ValueError(f"section {section.name} is too large ({section.size} bytes)")
        if section.offset + section.size > self.size:
            raise ValueError(f"section {section.name} extends past the end of the file")
        return read_at(self.data, section.offset, section.size)

    def va_to_offset(self, address: int, size: int) -> int:
        """The file offset of ``size`` bytes at virtual ``address``; ValueError if unmapped."""
        for seg in self.segments:
            if (
                seg.type == PT_LOAD
                and seg.vaddr <= address
                and address + size <= (seg.vaddr + seg.filesz)
            ):
                return seg.offset + (address - seg.vaddr)
        for sec in self.sections:
            if (
                sec.type != SHT_NOBITS
                and sec.addr
                and sec.addr <= address
                and (address + size <= sec.addr + sec.size)
            ):
                return sec.offset + (address - sec.addr)
        raise ValueError(f"virtual address {address:#x} is not mapped from the file")

    def data_segment(self) -> tuple[int, int] | None:
        """(offset, size) of the first loadable writable, non-executable segment, or None.

        That is where the Go linker puts build information, and where ``debug/buildinfo``
        looks when a binary has no section table. Only the first is returned, so a hostile
        file with thousands of overlapping segments costs one scan, not thousands.
        """
        for seg in self.segments:
            if seg.type == PT_LOAD and seg.flags & (PF_X | PF_W) == PF_W:
                return seg.offset, seg.filesz
        return None
