"""PyPI: PEP 440 ordering as ``packaging.version`` implements it, legacy strings below.

Valid versions are parsed by ``packaging`` and turned into a plain tuple mirroring its
comparison key (release without trailing zeros, then pre-, post-, dev-release and local
label), which compares faster than ``Version`` objects. Strings PEP 440 rejects (old releases
such as ``2004d`` or ``1.0-SNAPSHOT`` still appear in advisories) get the ordering pip's
``LegacyVersion`` gave them and sort before every valid version, as they did in pip. Only
strings that could be a version get that fallback: printable ASCII without blanks, holding a
digit; anything else (``not a version!``) is refused.
"""

from __future__ import annotations

import re

from packaging.version import InvalidVersion as PackagingInvalidVersion
from packaging.version import Version

from seawall.vulndb.versions import InvalidVersion
from seawall.vulndb.versions._scheme import Scheme

_LEGACY_PARTS = re.compile(r"(\d+|[a-z]+|\.|-)")
_LEGACY_NAMES = {"pre": "c", "preview": "c", "-": "final-", "rc": "c", "dev": "@"}
_LEGACY_SHAPE = re.compile(r"[\x21-\x7e]*[0-9][\x21-\x7e]*")

_VALID, _LEGACY = 1, 0


def _legacy(version: str) -> tuple[int, tuple[str, ...]]:
    """pip's LegacyVersion key: zero-padded numbers, ``*``-marked words, trailing zeros cut."""
    parts: list[str] = []
    for raw in [*_LEGACY_PARTS.split(version.lower()), "final"]:
        part = _LEGACY_NAMES.get(raw, raw)
        if not part or part == ".":
            continue
        if part[0].isdigit():
            parts.append(part.zfill(8))
            continue
        word = "*" + part
        if word < "*final":
            while parts and parts[-1] == "*final-":
                parts.pop()
        while parts and parts[-1] == "00000000":
            parts.pop()
        parts.append(word)
    return _LEGACY, tuple(parts)


def _local(label: str | None) -> tuple[object, ...]:
    if label is None:
        return (0,)
    return (1, *((1, int(p), "") if p.isdigit() else (0, 0, p) for p in label.split(".")))


def parse(version: str) -> tuple[object, ...]:
    """The sort key of a PyPI version."""
    try:
        v = Version(version)
    except PackagingInvalidVersion:
        if not _LEGACY_SHAPE.fullmatch(version):
            raise InvalidVersion(
                "pep440", version, "neither PEP 440 nor a legacy version"
            ) from None
        return _legacy(version)
    release = v.release
    while release and release[-1] == 0:
        release = release[:-1]
    if v.pre is not None:
        pre: tuple[int, str, int] = (0, v.pre[0], v.pre[1])
    elif v.post is None and v.dev is not None:
        pre = (-1, "", 0)  # 1.0.dev0 sorts before 1.0a0
    else:
        pre = (1, "", 0)
    post = -1 if v.post is None else v.post
    dev = (1, 0) if v.dev is None else (0, v.dev)
    return (_VALID, v.epoch, release, pre, post, dev, _local(v.local))


SCHEME = Scheme("pep440", parse)
