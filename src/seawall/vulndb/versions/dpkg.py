"""Debian and Ubuntu: dpkg's ordering of ``[epoch:]upstream[-revision]``.

As ``verrevcmp`` in dpkg's lib/dpkg/version.c: each part is read as alternating runs of
non-digits and digits. Non-digit runs compare character by character where ``~`` sorts before
everything (even the end of the run), the end of the run comes next, then letters, then all
other characters by their code; digit runs compare as integers, an absent run counting as 0.

The key encodes a run of non-digits as a string whose code points follow that order and which
ends in a sentinel, so plain tuple comparison does what ``verrevcmp`` does. Strings dpkg calls
errors are refused (empty, embedded blanks, a bad epoch, an empty revision); those it only
warns about (an upstream version not starting with a digit, unusual characters) are ordered as
dpkg orders them. Non-ASCII characters are refused: dpkg orders them by the sign of ``char``.
"""

from __future__ import annotations

import re

from seawall.vulndb.versions import InvalidVersion
from seawall.vulndb.versions._scheme import Scheme

_END = "\x02"  # the end of a non-digit run: after "~" (\x01), before letters and the rest
_ORDER = {ord("~"): "\x01"}
_ORDER.update({c: chr(0x100 + c) for c in range(ord("A"), ord("Z") + 1)})
_ORDER.update({c: chr(0x100 + c) for c in range(ord("a"), ord("z") + 1)})
_ORDER.update(
    {
        c: chr(0x200 + c)
        for c in range(0x01, 0x80)
        if chr(c) not in "~0123456789" and c not in _ORDER
    }
)
_DIGITS = re.compile(r"([0-9]+)")
_EMPTY: tuple[str | int, ...] = (_END, 0, _END)
_BAD = re.compile(r"[\x00\s]|[^\x00-\x7f]")
_MAX_EPOCH = 2**31 - 1


def _runs(text: str) -> tuple[str | int, ...]:
    """``text`` as alternating non-digit runs (translated, with an end mark) and numbers,
    always ending with a run; a missing number counts as 0, so "a" == "a0" and "" == "0"."""
    if not text:
        return _EMPTY
    parts = _DIGITS.split(text)
    out: list[str | int] = [
        int(part) if i & 1 else part.translate(_ORDER) + _END for i, part in enumerate(parts)
    ]
    if parts[-1]:
        out += (0, _END)
    return tuple(out)


def parse(version: str) -> tuple[int, tuple[str | int, ...], tuple[str | int, ...]]:
    """The sort key of a dpkg version."""
    text = version.strip()
    if not text:
        raise InvalidVersion("dpkg", version, "the version is empty")
    if _BAD.search(text):
        raise InvalidVersion("dpkg", version, "blanks, NUL or non-ASCII characters")
    epoch = 0
    epoch_text, colon, rest = text.partition(":")
    if colon:
        if not epoch_text.isdigit() or not epoch_text.isascii():
            raise InvalidVersion("dpkg", version, "the epoch is not a number")
        epoch = int(epoch_text)
        if epoch > _MAX_EPOCH:
            raise InvalidVersion("dpkg", version, "the epoch is too big")
        if not rest:
            raise InvalidVersion("dpkg", version, "nothing after the epoch")
        text = rest
    upstream, hyphen, revision = text.rpartition("-")
    if not hyphen:
        upstream, revision = text, ""
    elif not revision:
        raise InvalidVersion("dpkg", version, "the revision is empty")
    if not upstream:
        raise InvalidVersion("dpkg", version, "the upstream version is empty")
    return epoch, _runs(upstream), _runs(revision)


SCHEME = Scheme("dpkg", parse)
