"""Alpine, Wolfi, Chainguard: apk-tools' ordering.

The grammar is ``digits{.digits}...{letter}{_suffix{digits}}...{~hash}{-rdigits}`` with the
suffixes ``alpha beta pre rc`` (pre-releases) and ``cvs svn git hg p`` (post-releases), in
that order. As apk-tools' src/version.c (the token-based comparison of apk-tools 2.14 and 3):
versions are compared token by token; numbers compare as integers, except that a number after a
dot that has a leading zero compares as a string against the other (``1.05 < 1.5``, ``1.0 <
1.00``); letters by their code; suffixes by the list order; hashes as strings. When one version
has a token the other lacks (or a token of another kind), a pre-release suffix makes its version
the older one; otherwise the version whose token kind comes earlier in the grammar is newer
(``1.0a > 1.0_p1 > 1.0-r1 > 1.0``).

The key is a flat tuple of (rank, number, text) triples ending with the end's triple; ranks put
pre-release suffixes lowest and otherwise follow the grammar in reverse.
"""

from __future__ import annotations

import re

from seawall.vulndb.versions import InvalidVersion
from seawall.vulndb.versions._scheme import Scheme

_VERSION = re.compile(
    r"([0-9]+)((?:\.[0-9]+)*)([a-z]?)((?:_[a-z]+[0-9]*)*)(?:~([0-9a-f]+))?(?:-r([0-9]+))?"
)
_SUFFIX = re.compile(r"_([a-z]+)([0-9]*)")
_SUFFIX_ORDER = ("alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p")
_SUFFIXES = {name: order for order, name in enumerate(_SUFFIX_ORDER, start=1) if name}
_RELEASE = _SUFFIX_ORDER.index("") + 1  # suffixes ordered below it are pre-releases
_PRE_SUFFIX = -1  # below everything, even the end of the other version
_END, _REVISION, _HASH, _SUFFIX_NO, _POST_SUFFIX, _LETTER, _DIGIT, _INITIAL = range(8)


def parse(version: str) -> tuple[int | str, ...]:
    """The sort key of an apk version."""
    found = _VERSION.fullmatch(version)
    if not found:
        raise InvalidVersion("apk", version, "expected digits{.digits}{letter}{_suffix}{-rN}")
    initial, dotted, letter, suffixes, commit, revision = found.groups()
    out: list[int | str] = [_INITIAL, int(initial), ""]
    for digits in dotted.split(".")[1:]:
        if digits[0] == "0":  # compared as a string against any other number
            out += (_DIGIT, -1, digits)
        else:
            out += (_DIGIT, int(digits), "")
    if letter:
        out += (_LETTER, ord(letter), "")
    for name, number in _SUFFIX.findall(suffixes):
        order = _SUFFIXES.get(name)
        if order is None:
            raise InvalidVersion("apk", version, f"unknown suffix _{name}")
        out += ((_PRE_SUFFIX if order < _RELEASE else _POST_SUFFIX), order, "")
        if number:
            out += (_SUFFIX_NO, int(number), "")
    if commit:
        out += (_HASH, 0, commit)
    if revision is not None:
        out += (_REVISION, int(revision), "")
    out += (_END, 0, "")
    return tuple(out)


SCHEME = Scheme("apk", parse)
