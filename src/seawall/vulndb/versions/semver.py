"""SemVer 2.0 precedence and the dialects of it that npm, crates.io, Go and NuGet speak.

Precedence: the numeric core compares as integers; a version with a pre-release sorts before
the same core without one; pre-release identifiers compare one by one, numbers as integers and
below words, words by ASCII; a longer list wins when one is a prefix of the other. Build
metadata (``+incompatible``, ``+build.5``) never counts.

Dialects differ only in what they accept: npm allows a leading ``v``; Go allows ``v``, the
``v1``/``v1.2`` shorthands (equal to ``v1.0.0``/``v1.2.0``), and so pseudo-versions, which are
ordinary pre-releases; NuGet allows one to four numbers (``1.0 == 1.0.0.0``), leading zeros, and
compares pre-release labels ignoring case; OSV ``SEMVER`` ranges are read like Go's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from seawall.vulndb.versions import InvalidVersion
from seawall.vulndb.versions._scheme import Scheme

_STRICT_NUMBER = r"(?:0|[1-9][0-9]*)"
_STRICT_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_LOOSE_ID = r"[0-9A-Za-z-]+"
_BUILD = r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"

Identifiers = tuple[tuple[int, int, str], ...]
Key = tuple[tuple[int, ...], tuple[int, Identifiers]]

_RELEASE: tuple[int, Identifiers] = (1, ())  # no pre-release: after every pre-release


@dataclass(frozen=True)
class Dialect:
    """What one ecosystem accepts as a SemVer-like version."""

    name: str
    parts: tuple[int, int] = (3, 3)  # fewest and most numbers in the core
    v_prefix: bool = False
    leading_zeros: bool = False  # NuGet's "01.0" == "1.0"
    fold_case: bool = False  # NuGet's "RC" == "rc"
    short_plain_only: bool = False  # Go: "v1.2" has no pre-release or build
    max_number: int | None = None  # npm refuses numbers above JavaScript's safe integers

    def pattern(self) -> re.Pattern[str]:
        number = "[0-9]+" if self.leading_zeros else _STRICT_NUMBER
        ident = _LOOSE_ID if self.leading_zeros else _STRICT_ID
        fewest, most = self.parts
        core = rf"{number}(?:\.{number}){{{fewest - 1},{most - 1}}}"
        prefix = "v?" if self.v_prefix else ""
        return re.compile(rf"{prefix}({core})(?:-({ident}(?:\.{ident})*))?({_BUILD})")


def _identifier(text: str) -> tuple[int, int, str]:
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def make_scheme(dialect: Dialect) -> Scheme:
    """A scheme reading versions as ``dialect`` accepts them."""
    pattern = dialect.pattern()
    width = dialect.parts[1]

    def parse(version: str) -> Key:
        found = pattern.fullmatch(version)
        if found is None:
            raise InvalidVersion(dialect.name, version)
        core_text, pre_text, build = found.groups()
        core = tuple(int(n) for n in core_text.split("."))
        if dialect.short_plain_only and len(core) < width and (pre_text or build):
            raise InvalidVersion(dialect.name, version, "a short version has no pre-release")
        if dialect.max_number is not None and max(core) > dialect.max_number:
            raise InvalidVersion(dialect.name, version, "a number is too large")
        core += (0,) * (width - len(core))
        if pre_text is None:
            return core, _RELEASE
        if dialect.fold_case:
            pre_text = pre_text.lower()
        return core, (0, tuple(_identifier(p) for p in pre_text.split(".")))

    return Scheme(dialect.name, parse)


SEMVER = make_scheme(Dialect("semver", parts=(1, 3), v_prefix=True, short_plain_only=True))
NPM = make_scheme(Dialect("npm", v_prefix=True, max_number=2**53 - 1))
CARGO = make_scheme(Dialect("crates.io"))
GO = make_scheme(Dialect("go", parts=(1, 3), v_prefix=True, short_plain_only=True))
NUGET = make_scheme(Dialect("nuget", parts=(1, 4), leading_zeros=True, fold_case=True))
