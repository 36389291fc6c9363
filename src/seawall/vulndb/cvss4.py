"""CVSS v4.0 scores (CVSS-B, -BT, -BE, -BTE) computed from a vector, per the FIRST specification.

The v4.0 score is not a formula: the vector's effective metrics (a Modified metric overrides its
base metric; E defaults to Attacked, CR/IR/AR to High) fall into one of 270 *macro vectors*, six
digits EQ1..EQ6 of equivalence classes, each with a score that FIRST's experts chose (the table
below). The vector's score is its macro vector's score lowered by the mean, over the EQs that have
a next lower macro vector, of (score drop to that next lower macro vector) x (vector's severity
distance from the highest vector of its class) / (depth of the class).

The arithmetic here is exact (integers, scores in tenths): a tie such as 8.55 rounds
half up to 8.6, as FIRST's and Red Hat's reference calculators do since their 2024 rounding fix
(cvss-v4-calculator pull request #67), where float arithmetic plus a 1e-6 lift reaches the same
result. Metric order in the vector is not enforced: the specification contradicts itself on it
and real advisories carry reordered vectors; every other rule is (prefix, known metrics and
values, no duplicates, all eleven base metrics present).
"""

from __future__ import annotations

import math
from functools import cache

from seawall.vulndb.cvss import metric_map

_BASE = {
    "AV": "NALP",
    "AC": "LH",
    "AT": "NP",
    "PR": "NLH",
    "UI": "NPA",
    "VC": "HLN",
    "VI": "HLN",
    "VA": "HLN",
    "SC": "HLN",
    "SI": "HLN",
    "SA": "HLN",
}
_OPTIONAL = {
    "E": ("X", "A", "P", "U"),
    "CR": ("X", "H", "M", "L"),
    "IR": ("X", "H", "M", "L"),
    "AR": ("X", "H", "M", "L"),
    **{"M" + name: ("X", *values) for name, values in _BASE.items()},
    "MSI": ("X", "S", "H", "L", "N"),
    "MSA": ("X", "S", "H", "L", "N"),
    "S": ("X", "N", "P"),
    "AU": ("X", "N", "Y"),
    "R": ("X", "A", "U", "I"),
    "V": ("X", "D", "C"),
    "RE": ("X", "L", "M", "H"),
    "U": ("X", "Clear", "Green", "Amber", "Red"),
}
_VALUES = {**{name: tuple(values) for name, values in _BASE.items()}, **_OPTIONAL}
_DEFAULTS = {"E": "A", "CR": "H", "IR": "H", "AR": "H"}  # "X" is the worst case

# Severity level of each value in steps of 0.1 (0 is the most severe), used for the distance
# of a vector from the highest vector of its macro vector.
_LEVEL = {
    "AV": {"N": 0, "A": 1, "L": 2, "P": 3},
    "PR": {"N": 0, "L": 1, "H": 2},
    "UI": {"N": 0, "P": 1, "A": 2},
    "AC": {"L": 0, "H": 1},
    "AT": {"N": 0, "P": 1},
    "VC": {"H": 0, "L": 1, "N": 2},
    "VI": {"H": 0, "L": 1, "N": 2},
    "VA": {"H": 0, "L": 1, "N": 2},
    "SC": {"H": 1, "L": 2, "N": 3},
    "SI": {"S": 0, "H": 1, "L": 2, "N": 3},
    "SA": {"S": 0, "H": 1, "L": 2, "N": 3},
    "CR": {"H": 0, "M": 1, "L": 2},
    "IR": {"H": 0, "M": 1, "L": 2},
    "AR": {"H": 0, "M": 1, "L": 2},
}

# The highest-severity vectors of each class, tried in this order (the specification's
# "MaxComposed" data); EQ3 and EQ6 are joint, keyed (eq3, eq6).
_HIGHEST: dict[str, dict[object, tuple[str, ...]]] = {
    "eq1": {
        0: ("AV:N/PR:N/UI:N",),
        1: ("AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"),
        2: ("AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"),
    },
    "eq2": {0: ("AC:L/AT:N",), 1: ("AC:H/AT:N", "AC:L/AT:P")},
    "eq3eq6": {
        (0, 0): ("VC:H/VI:H/VA:H/CR:H/IR:H/AR:H",),
        (0, 1): ("VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M"),
        (1, 0): ("VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H"),
        (1, 1): (
            "VC:L/VI:H/VA:L/CR:H/IR:M/AR:H",
            "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M",
            "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M",
            "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H",
            "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M",
        ),
        (2, 1): ("VC:L/VI:L/VA:L/CR:H/IR:H/AR:H",),
    },
    "eq4": {0: ("SC:H/SI:S/SA:S",), 1: ("SC:H/SI:H/SA:H",), 2: ("SC:L/SI:L/SA:L",)},
}
# Depth of each class in steps of 0.1 (the specification's "max severity" data).
_DEPTH: dict[str, dict[object, int]] = {
    "eq1": {0: 1, 1: 4, 2: 5},
    "eq2": {0: 1, 1: 2},
    "eq3eq6": {(0, 0): 7, (0, 1): 6, (1, 0): 8, (1, 1): 8, (2, 1): 10},
    "eq4": {0: 6, 1: 5, 2: 4},
}

# Score of each macro vector "EQ1 EQ2 EQ3 EQ4 EQ5 EQ6": the lookup table published by FIRST with
# the CVSS v4.0 specification and its calculator. Values as in the reference calculator's cvss40.js
# (RedHatProductSecurity/cvss-v4-calculator, which FIRST's calculator is built from; Copyright
# FIRST, Red Hat, and contributors; BSD-2-Clause), checked against the `cvss` package's copy.
# fmt: off
_LOOKUP = {
    "000000": 10, "000001": 9.9, "000010": 9.8, "000011": 9.5, "000020": 9.5, "000021": 9.2,
    "000100": 10, "000101": 9.6, "000110": 9.3, "000111": 8.7, "000120": 9.1, "000121": 8.1,
    "000200": 9.3, "000201": 9, "000210": 8.9, "000211": 8, "000220": 8.1, "000221": 6.8,
    "001000": 9.8, "001001": 9.5, "001010": 9.5, "001011": 9.2, "001020": 9, "001021": 8.4,
    "001100": 9.3, "001101": 9.2, "001110": 8.9, "001111": 8.1, "001120": 8.1, "001121": 6.5,
    "001200": 8.8, "001201": 8, "001210": 7.8, "001211": 7, "001220": 6.9, "001221": 4.8,
    "002001": 9.2, "002011": 8.2, "002021": 7.2,
    "002101": 7.9, "002111": 6.9, "002121": 5,
    "002201": 6.9, "002211": 5.5, "002221": 2.7,
    "010000": 9.9, "010001": 9.7, "010010": 9.5, "010011": 9.2, "010020": 9.2, "010021": 8.5,
    "010100": 9.5, "010101": 9.1, "010110": 9, "010111": 8.3, "010120": 8.4, "010121": 7.1,
    "010200": 9.2, "010201": 8.1, "010210": 8.2, "010211": 7.1, "010220": 7.2, "010221": 5.3,
    "011000": 9.5, "011001": 9.3, "011010": 9.2, "011011": 8.5, "011020": 8.5, "011021": 7.3,
    "011100": 9.2, "011101": 8.2, "011110": 8, "011111": 7.2, "011120": 7, "011121": 5.9,
    "011200": 8.4, "011201": 7, "011210": 7.1, "011211": 5.2, "011220": 5, "011221": 3,
    "012001": 8.6, "012011": 7.5, "012021": 5.2,
    "012101": 7.1, "012111": 5.2, "012121": 2.9,
    "012201": 6.3, "012211": 2.9, "012221": 1.7,
    "100000": 9.8, "100001": 9.5, "100010": 9.4, "100011": 8.7, "100020": 9.1, "100021": 8.1,
    "100100": 9.4, "100101": 8.9, "100110": 8.6, "100111": 7.4, "100120": 7.7, "100121": 6.4,
    "100200": 8.7, "100201": 7.5, "100210": 7.4, "100211": 6.3, "100220": 6.3, "100221": 4.9,
    "101000": 9.4, "101001": 8.9, "101010": 8.8, "101011": 7.7, "101020": 7.6, "101021": 6.7,
    "101100": 8.6, "101101": 7.6, "101110": 7.4, "101111": 5.8, "101120": 5.9, "101121": 5,
    "101200": 7.2, "101201": 5.7, "101210": 5.7, "101211": 5.2, "101220": 5.2, "101221": 2.5,
    "102001": 8.3, "102011": 7, "102021": 5.4,
    "102101": 6.5, "102111": 5.8, "102121": 2.6,
    "102201": 5.3, "102211": 2.1, "102221": 1.3,
    "110000": 9.5, "110001": 9, "110010": 8.8, "110011": 7.6, "110020": 7.6, "110021": 7,
    "110100": 9, "110101": 7.7, "110110": 7.5, "110111": 6.2, "110120": 6.1, "110121": 5.3,
    "110200": 7.7, "110201": 6.6, "110210": 6.8, "110211": 5.9, "110220": 5.2, "110221": 3,
    "111000": 8.9, "111001": 7.8, "111010": 7.6, "111011": 6.7, "111020": 6.2, "111021": 5.8,
    "111100": 7.4, "111101": 5.9, "111110": 5.7, "111111": 5.7, "111120": 4.7, "111121": 2.3,
    "111200": 6.1, "111201": 5.2, "111210": 5.7, "111211": 2.9, "111220": 2.4, "111221": 1.6,
    "112001": 7.1, "112011": 5.9, "112021": 3,
    "112101": 5.8, "112111": 2.6, "112121": 1.5,
    "112201": 2.3, "112211": 1.3, "112221": 0.6,
    "200000": 9.3, "200001": 8.7, "200010": 8.6, "200011": 7.2, "200020": 7.5, "200021": 5.8,
    "200100": 8.6, "200101": 7.4, "200110": 7.4, "200111": 6.1, "200120": 5.6, "200121": 3.4,
    "200200": 7, "200201": 5.4, "200210": 5.2, "200211": 4, "200220": 4, "200221": 2.2,
    "201000": 8.5, "201001": 7.5, "201010": 7.4, "201011": 5.5, "201020": 6.2, "201021": 5.1,
    "201100": 7.2, "201101": 5.7, "201110": 5.5, "201111": 4.1, "201120": 4.6, "201121": 1.9,
    "201200": 5.3, "201201": 3.6, "201210": 3.4, "201211": 1.9, "201220": 1.9, "201221": 0.8,
    "202001": 6.4, "202011": 5.1, "202021": 2,
    "202101": 4.7, "202111": 2.1, "202121": 1.1,
    "202201": 2.4, "202211": 0.9, "202221": 0.4,
    "210000": 8.8, "210001": 7.5, "210010": 7.3, "210011": 5.3, "210020": 6, "210021": 5,
    "210100": 7.3, "210101": 5.5, "210110": 5.9, "210111": 4, "210120": 4.1, "210121": 2,
    "210200": 5.4, "210201": 4.3, "210210": 4.5, "210211": 2.2, "210220": 2, "210221": 1.1,
    "211000": 7.5, "211001": 5.5, "211010": 5.8, "211011": 4.5, "211020": 4, "211021": 2.1,
    "211100": 6.1, "211101": 5.1, "211110": 4.8, "211111": 1.8, "211120": 2, "211121": 0.9,
    "211200": 4.6, "211201": 1.8, "211210": 1.7, "211211": 0.7, "211220": 0.8, "211221": 0.2,
    "212001": 5.3, "212011": 2.4, "212021": 1.4,
    "212101": 2.4, "212111": 1.2, "212121": 0.5,
    "212201": 1, "212211": 0.3, "212221": 0.1,
}
# fmt: on
_TENTHS = {macro: round(score * 10) for macro, score in _LOOKUP.items()}


def parse_v4(vector: str) -> dict[str, str]:
    """The metrics of a ``CVSS:4.0/...`` vector, every base metric present; ValueError if bad."""
    head, *parts = vector.strip().split("/")
    if head != "CVSS:4.0":
        raise ValueError(f"not a CVSS v4.0 vector: {vector!r}")
    metrics = metric_map(parts)
    for name, value in metrics.items():
        if value not in _VALUES.get(name, ()):
            raise ValueError(f"CVSS v4.0 vector {vector!r}: bad metric {name}:{value}")
    missing = [name for name in _BASE if name not in metrics]
    if missing:
        raise ValueError(f"CVSS v4.0 vector {vector!r}: missing {', '.join(missing)}")
    return metrics


def _effective(metrics: dict[str, str]) -> dict[str, str]:
    """The value each scored metric takes: its Modified metric, else itself, else the default.

    MSI and MSA may be S (Safety), a value SI and SA themselves cannot take.
    """
    found = {}
    for name in (*_BASE, *_DEFAULTS):
        modified = metrics.get("M" + name, "X")
        value = modified if modified != "X" else metrics.get(name, "X")
        found[name] = _DEFAULTS[name] if value == "X" else value
    return found


def _classes(m: dict[str, str]) -> tuple[int, int, int, int, int, int]:
    """The equivalence classes EQ1..EQ6 of effective metrics (0 is the most severe)."""
    av, pr, ui = m["AV"], m["PR"], m["UI"]
    if av == pr == ui == "N":
        eq1 = 0
    elif "N" in (av, pr, ui) and av != "P":
        eq1 = 1
    else:
        eq1 = 2
    eq2 = 0 if m["AC"] == "L" and m["AT"] == "N" else 1
    vc, vi, va = m["VC"], m["VI"], m["VA"]
    eq3 = 0 if vc == vi == "H" else 1 if "H" in (vc, vi, va) else 2
    si_sa = m["SI"], m["SA"]  # S (Safety) only through MSI/MSA
    eq4 = 0 if "S" in si_sa else 1 if "H" in (m["SC"], *si_sa) else 2
    eq5 = "APU".index(m["E"])
    high = (m["CR"], vc), (m["IR"], vi), (m["AR"], va)
    eq6 = 0 if ("H", "H") in high else 1
    return eq1, eq2, eq3, eq4, eq5, eq6


@cache
def _levels(candidate: str) -> tuple[tuple[str, int], ...]:
    """``"AV:N/PR:N/UI:N"`` -> ``(("AV", 0), ("PR", 0), ("UI", 0))``."""
    return tuple(
        (name, _LEVEL[name][value]) for name, value in (p.split(":") for p in candidate.split("/"))
    )


def _distance(m: dict[str, str], candidates: tuple[str, ...]) -> int:
    """Steps between the vector and the first candidate no less severe in every metric."""
    for candidate in candidates:  # one always fits a vector of the class; else the last one
        steps = [_LEVEL[name][m[name]] - level for name, level in _levels(candidate)]
        if min(steps) >= 0:
            break
    return sum(steps)


def _next_lower(macro: str) -> tuple[int | None, ...]:
    """Scores of the next lower macro vectors along EQ1, EQ2, EQ3+EQ6, EQ4, EQ5 (None: none).

    EQ3 and EQ6 move together: 00 -> the higher of 01 and 10; 01 -> 11; 10 -> 11; 11 -> 21.
    """

    def bumped(*positions: int) -> int | None:
        digits = [int(d) + (i in positions) for i, d in enumerate(macro)]
        return _TENTHS.get("".join(map(str, digits)))

    eq3eq6 = {
        "00": max((s for s in (bumped(5), bumped(2)) if s is not None), default=None),
        "01": bumped(2),
        "10": bumped(5),
        "11": bumped(2),
        "21": None,
    }[macro[2] + macro[5]]
    return bumped(0), bumped(1), eq3eq6, bumped(3), bumped(4)


_NEXT_LOWER = {macro: _next_lower(macro) for macro in _TENTHS}


def v4_score(vector: str) -> float:
    """Score of a ``CVSS:4.0/...`` vector (threat and environmental metrics applied if given).

    ValueError if the vector is malformed. A vector with no impact at all scores 0.0.
    """
    m = _effective(parse_v4(vector))
    if all(m[name] == "N" for name in ("VC", "VI", "VA", "SC", "SI", "SA")):
        return 0.0
    eq1, eq2, eq3, eq4, eq5, eq6 = _classes(m)
    macro = f"{eq1}{eq2}{eq3}{eq4}{eq5}{eq6}"
    value = _TENTHS[macro]
    within = [  # (distance within the class, depth of the class); EQ5's class has one value
        (_distance(m, _HIGHEST["eq1"][eq1]), _DEPTH["eq1"][eq1]),
        (_distance(m, _HIGHEST["eq2"][eq2]), _DEPTH["eq2"][eq2]),
        (_distance(m, _HIGHEST["eq3eq6"][eq3, eq6]), _DEPTH["eq3eq6"][eq3, eq6]),
        (_distance(m, _HIGHEST["eq4"][eq4]), _DEPTH["eq4"][eq4]),
        (0, 1),
    ]
    # Mean over the EQs with a lower macro vector of drop x distance / depth, in exact integers:
    # tenths = value - sum(drop_i * distance_i / depth_i) / n, over the denominator n * depths.
    parts = [
        (value - lower, distance, depth)
        for lower, (distance, depth) in zip(_NEXT_LOWER[macro], within, strict=True)
        if lower is not None
    ]
    if not parts:
        return value / 10
    denominator = len(parts) * math.prod(depth for _, _, depth in parts)
    drop = sum(d * distance * denominator // (len(parts) * depth) for d, distance, depth in parts)
    tenths = min(max(value * denominator - drop, 0), 100 * denominator)
    return (2 * tenths + denominator) // (2 * denominator) / 10  # round half up
