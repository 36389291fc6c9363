"""Maven: the ordering of Maven's ``ComparableVersion`` (maven-artifact 3.8).

A version is split at ``.``, ``-`` and every change between digits and letters into numbers and
qualifiers; a ``-`` (or a change from letters to digits, or digits to letters) opens a nested
list, and so does a qualifier after a dot that ends the version or is followed by digits
(``1.0.0.RC1`` reads as ``1.0.0-RC1``, as Maven 3.8.7 and later do). Qualifiers sort
``alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp < any other
word`` (other words alphabetically, ignoring case; ``a1``/``b1``/``m1`` mean
``alpha-1``...). At one position a word is below a list, which is below a number. Trailing
zeros, empty qualifiers and empty lists are dropped, and a list that runs out is padded with
"nothing", which equals 0 and "" (so ``1 == 1.0 == 1-ga``, ``1-rc1 < 1 < 1-sp < 1.1``).

Maven's order is not total on odd strings (``1.0.alpha-1 < 1 < 1.ga.1 < 1.0.alpha-1`` is a cycle
in Maven itself); the key reproduces Maven's answer for every pair rather than inventing a total
order, so it is an object comparing with Maven's rules over a pre-parsed tree. Non-ASCII strings
are refused (Java's digit and case rules differ from Python's there), and so are versions
nesting more than 50 lists, which no real version does.
"""

from __future__ import annotations

import re
from typing import Any

from seawall.vulndb.versions import InvalidVersion
from seawall.vulndb.versions._scheme import Scheme

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_RANK = {q: str(i) for i, q in enumerate(_QUALIFIERS)}
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}
_RELEASE = _RANK[""]
_RUNS = re.compile(r"([0-9]+)|([^0-9.\-]+)|([.\-])")
_MAX_DEPTH = 50  # real versions nest a handful of lists; this bounds the recursion

# An item is (kind, value): a word (its comparable qualifier), a nested list, or a number.
_WORD, _LIST, _NUMBER = range(3)
Item = tuple[int, Any]


def _word(text: str, followed_by_digit: bool) -> Item:
    if followed_by_digit:
        text = _SHORT.get(text, text)
    text = _ALIASES.get(text, text)
    return _WORD, _RANK.get(text, f"{len(_QUALIFIERS)}-{text}")


def _is_null(item: Item) -> bool:
    kind, value = item
    return not value if kind != _WORD else value == _RELEASE


def _freeze(items: list[Item]) -> tuple[Item, ...]:
    """Nested lists become tuples, each with its null items dropped from the end (Maven's
    ``normalize``, which looks past non-null nested lists)."""
    out = [(_LIST, _freeze(value)) if kind == _LIST else (kind, value) for kind, value in items]
    i = len(out) - 1
    while i >= 0:
        if _is_null(out[i]):
            del out[i]
        elif out[i][0] != _LIST:
            break
        i -= 1
    return tuple(out)


def _parse_items(version: str, text: str) -> tuple[Item, ...]:
    root: list[Item] = []
    current = root
    pending = ""
    pending_digits = False

    def item(run: str, digits: bool, followed_by_digit: bool = False) -> Item:
        return (_NUMBER, int(run)) if digits else _word(run, followed_by_digit)

    depth = 0

    def nest() -> list[Item]:
        nonlocal depth
        depth += 1
        if depth > _MAX_DEPTH:
            raise InvalidVersion("maven", version, f"more than {_MAX_DEPTH} nested parts")
        inner: list[Item] = []
        current.append((_LIST, inner))
        return inner

    for digits, letters, separator in _RUNS.findall(text):
        if separator:
            current.append(item(pending, pending_digits) if pending else (_NUMBER, 0))
            pending = ""
            if separator == "-":
                current = nest()
            continue
        if pending:  # a change between letters and digits opens a list
            if digits and current:  # ".X1" is read as "-X1"
                current = nest()
            current.append(item(pending, pending_digits, followed_by_digit=bool(digits)))
            current = nest()
        pending, pending_digits = (digits, True) if digits else (letters, False)
    if pending:
        if not pending_digits and current:  # a final ".X" is read as "-X"
            current = nest()
        current.append(item(pending, pending_digits))
    return _freeze(root)


def _compare_null(item: Item) -> int:
    """``item`` against the nothing a shorter list is padded with."""
    kind, value = item
    if kind == _NUMBER:
        return 1 if value else 0
    if kind == _WORD:
        return int((value > _RELEASE) - (value < _RELEASE))
    for inner in value:
        result = _compare_null(inner)
        if result:
            return result
    return 0


def _compare(left: tuple[Item, ...], right: tuple[Item, ...]) -> int:
    """Two lists, item by item, the shorter padded with nothing."""
    for i in range(max(len(left), len(right))):
        if i >= len(left):
            result = -_compare_null(right[i])
        elif i >= len(right):
            result = _compare_null(left[i])
        else:
            (lkind, lvalue), (rkind, rvalue) = left[i], right[i]
            if lkind != rkind:
                return 1 if lkind > rkind else -1
            if lkind == _LIST:
                result = _compare(lvalue, rvalue)
            else:
                result = (lvalue > rvalue) - (lvalue < rvalue)
        if result:
            return result
    return 0


class MavenKey:
    """A parsed Maven version comparing as ``ComparableVersion`` does; equal iff Maven says
    equal (the parsed trees are then identical, so hashing the tree is consistent)."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[Item, ...]) -> None:
        self.items = items

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MavenKey) and self.items == other.items

    def __hash__(self) -> int:
        return hash(self.items)

    def __lt__(self, other: MavenKey) -> bool:
        return _compare(self.items, other.items) < 0

    def __le__(self, other: MavenKey) -> bool:
        return _compare(self.items, other.items) <= 0

    def __gt__(self, other: MavenKey) -> bool:
        return _compare(self.items, other.items) > 0

    def __ge__(self, other: MavenKey) -> bool:
        return _compare(self.items, other.items) >= 0

    def __repr__(self) -> str:
        return f"MavenKey({self.items!r})"


def parse(version: str) -> MavenKey:
    """The sort key of a Maven version."""
    if not version.isascii():
        raise InvalidVersion("maven", version, "non-ASCII characters")
    return MavenKey(_parse_items(version, version.lower()))


SCHEME = Scheme("maven", parse)
