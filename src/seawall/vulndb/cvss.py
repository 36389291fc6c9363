"""CVSS v3.0/v3.1 and v2 base scores computed from a vector string, per the FIRST specifications.

Written here rather than taken from the ``cvss`` package, which is LGPL-3.0+. CVSS v4.0 scores
come from :mod:`seawall.vulndb.cvss4` (macro vectors and FIRST's lookup table); the qualitative
rating below is the same for v3 and v4.
"""

from __future__ import annotations

import math

from seawall.model import Severity

_V3 = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_V3_PR = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}
_V2 = {
    "AV": {"L": 0.395, "A": 0.646, "N": 1.0},
    "AC": {"H": 0.35, "M": 0.61, "L": 0.71},
    "Au": {"M": 0.45, "S": 0.56, "N": 0.704},
    "C": {"N": 0.0, "P": 0.275, "C": 0.660},
    "I": {"N": 0.0, "P": 0.275, "C": 0.660},
    "A": {"N": 0.0, "P": 0.275, "C": 0.660},
}


def metric_map(parts: list[str]) -> dict[str, str]:
    """``["AV:N", "AC:L"]`` -> ``{"AV": "N", "AC": "L"}``; ValueError on a repeat or no colon."""
    metrics: dict[str, str] = {}
    for part in parts:
        name, sep, value = part.partition(":")
        if not sep or name in metrics:
            raise ValueError(f"bad CVSS metric {part!r}")
        metrics[name] = value
    return metrics


def _roundup_31(value: float) -> float:
    """CVSS v3.1 Appendix A ``Roundup``: the smallest one-decimal number >= value."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000
    return (math.floor(scaled / 10_000) + 1) / 10


def v3_base_score(vector: str) -> float:
    """Base score of a ``CVSS:3.0/...`` or ``CVSS:3.1/...`` vector; ValueError if malformed."""
    head, *parts = vector.strip().split("/")
    if head not in ("CVSS:3.0", "CVSS:3.1"):
        raise ValueError(f"not a CVSS v3 vector: {vector!r}")
    metrics = metric_map(parts)
    try:
        scope = metrics["S"]
        pr = _V3_PR[scope][metrics["PR"]]
        w = {name: table[metrics[name]] for name, table in _V3.items()}
    except KeyError as exc:
        raise ValueError(f"CVSS v3 vector {vector!r}: bad or missing {exc}") from None
    iss = 1 - (1 - w["C"]) * (1 - w["I"]) * (1 - w["A"])
    changed = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    impact = 6.42 * iss if scope == "U" else changed
    exploitability = 8.22 * w["AV"] * w["AC"] * pr * w["UI"]
    if impact <= 0:
        return 0.0
    total = impact + exploitability if scope == "U" else 1.08 * (impact + exploitability)
    if head == "CVSS:3.0":
        return math.ceil(min(total, 10) * 10) / 10
    return _roundup_31(min(total, 10))


def v2_base_score(vector: str) -> float:
    """Base score of a CVSS v2 vector (``AV:N/AC:L/Au:N/C:P/I:P/A:P``); ValueError if bad."""
    text = vector.strip().removeprefix("(").removesuffix(")")
    metrics = metric_map(text.split("/"))
    try:
        w = {name: table[metrics[name]] for name, table in _V2.items()}
    except KeyError as exc:
        raise ValueError(f"CVSS v2 vector {vector!r}: bad or missing {exc}") from None
    impact = 10.41 * (1 - (1 - w["C"]) * (1 - w["I"]) * (1 - w["A"]))
    exploitability = 20 * w["AV"] * w["AC"] * w["Au"]
    f_impact = 0.0 if impact == 0 else 1.176
    score = (0.6 * impact + 0.4 * exploitability - 1.5) * f_impact
    return float(round(score + 1e-9, 1))


def rating(score: float, *, v2: bool = False) -> Severity:
    """The qualitative rating of a score (v3 and v4 table; v2 has no CRITICAL). 0.0 is LOW."""
    if score >= 9.0 and not v2:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    return Severity.LOW
