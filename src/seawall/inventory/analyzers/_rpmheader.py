"""Decoding of rpm header blobs, the values every rpm database backend stores per package.

A header blob (as stored in the database, without the 8-byte magic of a ``.rpm`` file) is::

    il: uint32 BE   number of index entries
    dl: uint32 BE   size of the data store
    il x (tag, type, offset, count): uint32 BE each
    dl bytes of data store

Only the tags Seawall needs are decoded, with every offset and count checked against the data
store, so a hostile blob raises ValueError instead of reading out of bounds or looping long.
A wanted tag may appear only once (as rpm itself requires): decoding one can take time in
proportion to the data store, so the total stays linear in the header's size however many
index entries (up to 65,535) a hostile header repeats it in.
"""

from __future__ import annotations

import struct

TAG_NAME = 1000
TAG_VERSION = 1001
TAG_RELEASE = 1002
TAG_EPOCH = 1003
TAG_LICENSE = 1014
TAG_ARCH = 1022
TAG_SOURCERPM = 1044
TAG_DIRINDEXES = 1116
TAG_BASENAMES = 1117
TAG_DIRNAMES = 1118
TAG_MODULARITYLABEL = 5096

_INT32 = 4
_STRING = 6
_STRING_ARRAY = 8
_I18NSTRING = 9

# rpm's own sanity limits (hdrchkTags/hdrchkData in lib/header.c).
_MAX_TAGS = 0xFFFF
_MAX_DATA = 256 * 1024 * 1024

_WANTED = frozenset(
    {
        TAG_NAME,
        TAG_VERSION,
        TAG_RELEASE,
        TAG_EPOCH,
        TAG_LICENSE,
        TAG_ARCH,
        TAG_SOURCERPM,
        TAG_DIRINDEXES,
        TAG_BASENAMES,
        TAG_DIRNAMES,
        TAG_MODULARITYLABEL,
    }
)


class RpmHeader:
    """The decoded fields of one installed package's header."""

    __slots__ = (
        "arch",
        "basenames",
        "dirindexes",
        "dirnames",
        "epoch",
        "license",
        "modularity_label",
        "name",
        "release",
        "source_rpm",
        "version",
    )

    def __init__(self) -> None:
        self.name = ""
        self.version = ""
        self.release = ""
        self.epoch: int | None = None
        self.arch = ""
        self.license = ""
        self.source_rpm = ""
        self.modularity_label = ""
        self.dirindexes: list[int] = []
        self.basenames: list[str] = []
        self.dirnames: list[str] = []

    @property
    def evr(self) -> str:
        """``[epoch:]version-release``, rpm's full version."""
        vr = f"{self.version}-{self.release}" if self.release else self.version
        return f"{self.epoch}:{vr}" if self.epoch is not None else vr

    def files(self) -> list[str]:
        """Absolute paths of the files the package owns (directory + basename)."""
        dirs, names, indexes = self.dirnames, self.basenames, self.dirindexes
        if len(indexes) != len(names):
            raise ValueError("rpm header: DIRINDEXES and BASENAMES differ in length")
        ndirs = len(dirs)
        paths: list[str] = []
        for index, name in zip(indexes, names, strict=True):
            if not 0 <= index < ndirs:
                raise ValueError("rpm header: DIRINDEXES entry out of range")
            paths.append(dirs[index] + name)
        return paths


def _string(store: bytes, offset: int) -> str:
    end = store.find(b"\0", offset)
    if end < 0:
        raise ValueError("rpm header: unterminated string")
    return store[offset:end].decode("utf-8", errors="replace")


def _strings(store: bytes, offset: int, count: int) -> list[str]:
    if count > len(store) - offset:
        raise ValueError("rpm header: string array longer than the data store")
    parts = store[offset:].split(b"\0", count)
    if len(parts) <= count:
        raise ValueError("rpm header: unterminated string array")
    return [p.decode("utf-8", errors="replace") for p in parts[:count]]


def _int32s(store: bytes, offset: int, count: int) -> list[int]:
    end = offset + 4 * count
    if end > len(store):
        raise ValueError("rpm header: integer array beyond the data store")
    return list(struct.unpack(f">{count}i", store[offset:end]))


def parse_header(blob: bytes) -> RpmHeader:
    """Decode the tags Seawall uses from a header blob; ValueError if it is malformed."""
    if len(blob) < 8:
        raise ValueError("rpm header: shorter than 8 bytes")
    il, dl = struct.unpack_from(">II", blob, 0)
    if il == 0 or il > _MAX_TAGS or dl > _MAX_DATA:
        raise ValueError(f"rpm header: implausible size (il={il}, dl={dl})")
    data_start = 8 + 16 * il
    if data_start + dl > len(blob):
        raise ValueError("rpm header: truncated")
    store = blob[data_start : data_start + dl]
    header = RpmHeader()
    seen: set[int] = set()
    for tag, kind, offset, count in struct.iter_unpack(">IIII", blob[8:data_start]):
        if tag not in _WANTED:
            continue
        if tag in seen:  # each decode may cost the whole store: once per tag keeps it linear
            raise ValueError(f"rpm header: tag {tag} appears more than once")
        seen.add(tag)
        if offset >= dl or count == 0:
            raise ValueError(f"rpm header: tag {tag} points outside the data store")
        if kind == _INT32:
            values = _int32s(store, offset, count)
            if tag == TAG_EPOCH:
                header.epoch = values[0]
            elif tag == TAG_DIRINDEXES:
                header.dirindexes = values
        elif kind == _STRING_ARRAY:
            strings = _strings(store, offset, count)
            if tag == TAG_BASENAMES:
                header.basenames = strings
            elif tag == TAG_DIRNAMES:
                header.dirnames = strings
        elif kind in (_STRING, _I18NSTRING):
            _set_string(header, tag, _string(store, offset))
    return header


_STRING_FIELDS = {
    TAG_NAME: "name",
    TAG_VERSION: "version",
    TAG_RELEASE: "release",
    TAG_LICENSE: "license",
    TAG_ARCH: "arch",
    TAG_SOURCERPM: "source_rpm",
    TAG_MODULARITYLABEL: "modularity_label",
}


def _set_string(header: RpmHeader, tag: int, value: str) -> None:
    field = _STRING_FIELDS.get(tag)
    if field is not None:
        setattr(header, field, value)


def split_source_rpm(source_rpm: str) -> tuple[str, str]:
    """``openssl-3.0.7-24.el9.src.rpm`` -> (``openssl``, ``3.0.7-24.el9``); ("", "") if not."""
    for suffix in (".src.rpm", ".nosrc.rpm"):
        if source_rpm.endswith(suffix):
            stem = source_rpm[: -len(suffix)]
            break
    else:
        return "", ""
    parts = stem.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return "", ""
    return parts[0], f"{parts[1]}-{parts[2]}"
