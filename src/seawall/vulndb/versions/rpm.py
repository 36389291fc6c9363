"""Red Hat, AlmaLinux, Rocky Linux, SUSE, openSUSE: rpm's ordering of ``[epoch:]version[-release]``.

As ``rpmvercmp`` (rpm's rpmio/rpmvercmp.c, with ``~`` and ``^``): a string is a sequence of
digit runs and ASCII-letter runs; every other character only separates them. At each position
``~`` sorts before anything, the end of the string next, ``^`` after the end but before any
run, then letter runs (by bytes), then digit runs (as integers). Epochs compare as integers
(absent = 0), then versions, then releases; an absent release sorts before any release, as in
rpm's own ``labelCompare``.

The key turns each position into a (rank, number, text) triple and ends with the end's triple,
so tuples compare the way ``rpmvercmp`` walks the strings.
"""

from __future__ import annotations

import re

from seawall.vulndb.versions import InvalidVersion
from seawall.vulndb.versions._scheme import Scheme

_TILDE, _END, _CARET, _ALPHA, _DIGIT = range(5)
_TOKENS = re.compile(r"([0-9]+)|([A-Za-z]+)|(~)|(\^)")
_BAD = re.compile(r"[\x00-\x20\x7f]|[^\x00-\x7f]")
_EPOCH = re.compile(r"([0-9]*):")

Segments = tuple[int | str, ...]


def _segments(text: str) -> Segments:
    out: list[int | str] = []
    for digits, letters, tilde, _caret in _TOKENS.findall(text):
        if digits:
            out += (_DIGIT, int(digits), "")
        elif letters:
            out += (_ALPHA, 0, letters)
        elif tilde:
            out += (_TILDE, 0, "")
        else:
            out += (_CARET, 0, "")
    out += (_END, 0, "")
    return tuple(out)


def parse(version: str) -> tuple[int, Segments, tuple[Segments, ...]]:
    """The sort key of an rpm EVR; the release is ``()`` when absent, ``(segments,)`` if not."""
    if not version or _BAD.search(version):
        raise InvalidVersion("rpm", version, "empty, or blanks or non-ASCII characters")
    epoch = 0
    text = version
    found = _EPOCH.match(version)
    if found:
        epoch = int(found.group(1) or 0)
        text = version[found.end() :]
    upstream, hyphen, release = text.rpartition("-")
    if not hyphen:
        upstream = text
    if not upstream:
        raise InvalidVersion("rpm", version, "the version part is empty")
    return epoch, _segments(upstream), ((_segments(release),) if hyphen else ())


SCHEME = Scheme("rpm", parse)
