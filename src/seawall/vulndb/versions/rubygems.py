"""RubyGems: the ordering of ``Gem::Version``.

A version is digits followed by dot-separated alphanumeric parts (a ``-`` means ``.pre.``);
it is a pre-release as soon as it holds a letter. It is compared by its canonical segments:
runs of digits (as integers) and of letters, with trailing zeros removed from the numeric
part and from the part from the first letter on (``1.0.a.0 == 1.a``). Missing segments count as
0, and a word is below any number (``1.0.a < 1.0 < 1.0.1``); words compare by bytes.

Because the padding zeros can meet zeros inside the longer version, the key groups each
non-zero segment with the count of zeros before it: a number after few zeros is newer than one
after many, a word after few zeros older, and the end (zeros for ever) sits between the two.
"""

from __future__ import annotations

import re

from seawall.vulndb.versions import InvalidVersion
from seawall.vulndb.versions._scheme import Scheme

_VERSION = re.compile(r"[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?")
_SEGMENTS = re.compile(r"([0-9]+)|([a-zA-Z]+)")
_ZERO = (1, 0, "")  # a numeric segment 0
_WORD_AFTER, _END, _NUMBER_AFTER = range(3)
_END_MARK = (_END, 0, 0, "")

Segment = tuple[int, int, str]
Group = tuple[int, int, int, str]


def _trim(segments: list[Segment]) -> list[Segment]:
    while segments and segments[-1] == _ZERO:
        segments.pop()
    return segments


def _groups(canonical: list[Segment]) -> tuple[Group, ...]:
    out: list[Group] = []
    zeros = 0
    for segment in canonical:
        if segment == _ZERO:
            zeros += 1
        elif segment[0]:
            out.append((_NUMBER_AFTER, -zeros, segment[1], ""))
            zeros = 0
        else:
            out.append((_WORD_AFTER, zeros, 0, segment[2]))
            zeros = 0
    out.append(_END_MARK)
    return tuple(out)


def parse(version: str) -> tuple[Group, ...]:
    """The sort key of a gem version (blank means "0", as ``Gem::Version.new("")``)."""
    text = version.strip(" \t\n\v\f\r\0") or "0"
    if not _VERSION.fullmatch(text):
        raise InvalidVersion("rubygems", version, "expected digits and dot-separated words")
    segments: list[Segment] = [
        (1, int(digits), "") if digits else (0, 0, word)
        for digits, word in _SEGMENTS.findall(text.replace("-", ".pre."))
    ]
    first_word = next((i for i, s in enumerate(segments) if not s[0]), len(segments))
    return _groups(_trim(segments[:first_word]) + _trim(segments[first_word:]))


SCHEME = Scheme("rubygems", parse)
