"""Packagist: Composer's normalisation, then PHP's ``version_compare`` ordering.

Composer (``VersionParser::normalize`` of composer/semver 3.3) reads ``v1.2``, ``1.2.3.4``,
``1.0-RC1``, ``2.0.0-beta.2``, ``1.0.0-patch1``, ``1.0-dev`` and date versions such as
``20230101``; it pads classic versions to
four numbers and spells the stability ``alpha``/``beta``/``RC``/``patch``, dropping ``stable``.
Constraints are then evaluated with PHP's ``version_compare``, which orders the parts of the
normalised string as ``dev < alpha < beta < RC < number < patch`` (numbers by value), and a
version that runs out compares as if it continued with a number it is below. Branch names
(``dev-master``, ``1.x-dev``) have no place in that order and are refused.

The key is a tuple of (order, number) pairs ending with the "ran out" pair.
"""

from __future__ import annotations

import re

from seawall.vulndb.versions import InvalidVersion
from seawall.vulndb.versions._scheme import Scheme

_MODIFIER = r"[._-]?(?:(stable|beta|b|rc|alpha|a|patch|pl|p)((?:[.-]?[0-9]+)*+)?)?([.-]?dev)?"
_CLASSIC = re.compile(r"v?([0-9]{1,5})(\.[0-9]+)?(\.[0-9]+)?(\.[0-9]+)?" + _MODIFIER, re.I)
_DATE = re.compile(r"v?([0-9]{4}(?:[.:-]?[0-9]{2}){1,6}(?:[.:-]?[0-9]{1,3})?)" + _MODIFIER, re.I)
_ALIAS = re.compile(r"([^,\s]+) +as +[^,\s]+")
_FLAG = re.compile(r"@(?:stable|rc|beta|alpha|dev)$", re.I)
_BUILD = re.compile(r"([^,\s+]+)\+\S+")
_NUMBERS = re.compile(r"[0-9]+")

_UNKNOWN, _DEV, _ALPHA, _BETA, _RC, _NUMBER, _PATCH = range(-1, 6)
_STABILITY = {
    "alpha": _ALPHA,
    "a": _ALPHA,
    "beta": _BETA,
    "b": _BETA,
    "rc": _RC,
    "patch": _PATCH,
    "pl": _PATCH,
    "p": _PATCH,
}
_RAN_OUT = (_NUMBER, -1)  # below every number, above every pre-release word


def parse(version: str) -> tuple[tuple[int, int], ...]:
    """The sort key of a Composer version."""
    text = version.strip()
    alias = _ALIAS.fullmatch(text)
    if alias:  # "1.0.x-dev as 1.0.0": the version is the first
        text = alias.group(1)
    text = _FLAG.sub("", text)  # "1.0@beta": a stability flag, not part of the version
    build = _BUILD.fullmatch(text)
    if build:
        text = build.group(1)
    found = _CLASSIC.fullmatch(text)
    if found:
        numbers = [int(n.lstrip(".")) for n in found.groups()[:4] if n]
        numbers += [0] * (4 - len(numbers))
        stability, stability_numbers, dev = found.groups()[4:]
    else:
        found = _DATE.fullmatch(text)
        if not found:
            raise InvalidVersion("packagist", version, "not a Composer version (or a branch)")
        numbers = [int(n) for n in _NUMBERS.findall(found.group(1))]
        stability, stability_numbers, dev = found.groups()[1:]
    key = [(_NUMBER, n) for n in numbers]
    if stability and stability != "stable":
        key.append((_STABILITY.get(stability.lower(), _UNKNOWN), 0))
        key += [(_NUMBER, int(n)) for n in _NUMBERS.findall(stability_numbers or "")]
    if dev and stability != "stable":
        key.append((_DEV, 0))
    key.append(_RAN_OUT)
    return tuple(key)


SCHEME = Scheme("packagist", parse)
