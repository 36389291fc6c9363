"""CVSS v2, v3.x and v4.0 scores against the reference calculators' examples, and properties."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.model import Severity
from seawall.vulndb.cvss import rating, v2_base_score, v3_base_score
from seawall.vulndb.cvss4 import parse_v4, v4_score


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),  # CVE-2013-1937
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5),  # Heartbleed
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),  # Shellshock
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1),  # POODLE
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
        ("CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.8),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O", 9.8),  # temporal ignored
    ],
)
def test_v3_examples(vector: str, score: float) -> None:
    assert v3_base_score(vector) == score


def test_v2_examples() -> None:
    assert v2_base_score("AV:N/AC:L/Au:N/C:C/I:C/A:C") == 10.0
    assert v2_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P") == 7.5
    assert v2_base_score("(AV:N/AC:M/Au:N/C:N/I:P/A:N)") == 4.3


@pytest.mark.parametrize(
    "vector",
    [
        "",
        "CVSS:3.1",
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:2.0/AV:N",
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U",
    ],
)
def test_malformed_v3_vectors_raise_value_error(vector: str) -> None:
    with pytest.raises(ValueError):
        v3_base_score(vector)


def test_ratings() -> None:
    assert [rating(s) for s in (0.0, 3.9, 4.0, 7.0, 9.0)] == [
        Severity.LOW,
        Severity.LOW,
        Severity.MEDIUM,
        Severity.HIGH,
        Severity.CRITICAL,
    ]
    assert rating(10.0, v2=True) is Severity.HIGH


_V3 = {
    "AV": "NALP",
    "AC": "LH",
    "PR": "NLH",
    "UI": "NR",
    "S": "UC",
    "C": "HLN",
    "I": "HLN",
    "A": "HLN",
}


@given(st.fixed_dictionaries({k: st.sampled_from(v) for k, v in _V3.items()}))
def test_any_valid_v3_vector_scores_within_range_and_more_impact_never_lowers_it(
    m: dict[str, str],
) -> None:
    vector = "CVSS:3.1/" + "/".join(f"{k}:{v}" for k, v in m.items())
    score = v3_base_score(vector)
    assert 0.0 <= score <= 10.0
    assert round(score, 1) == score
    worse = vector.replace(f"/C:{m['C']}", "/C:H")
    assert v3_base_score(worse) >= score


def test_all_v3_vectors_score_without_error() -> None:
    for values in itertools.product(*_V3.values()):
        vector = "CVSS:3.1/" + "/".join(f"{k}:{v}" for k, v in zip(_V3, values, strict=True))
        assert 0.0 <= v3_base_score(vector) <= 10.0


# CVSS v4.0. Expected scores are the FIRST / Red Hat reference calculators' outputs, from:
# [rh-b]   RedHatProductSecurity/cvss, tests/vectors_simple4 (CVSS-B)
# [rh-req] RedHatProductSecurity/cvss, tests/vectors_security4 (CR/IR/AR)
# [first]  FIRSTdotorg/cvss-resources, vectorFiles/reference-scores (CVSS-BT/-BTE, modified
#          metrics; the same file's "Max Equivalency Set" rows for the first four)
# [doc]    the example in RedHatProductSecurity/cvss-v4-calculator cvss40.js (class CVSS40), and
#          polycvss's v4 module documentation
# [tie]    rounding threads whose vectors score exactly x.x5, rounded half up since the 2024 fix:
#          RedHatProductSecurity/cvss-v4-calculator issues #48, #66 and
#          RedHatProductSecurity/cvss issues #58, #60, #63
# [#53]    RedHatProductSecurity/cvss-v4-calculator issue #53: FIRST's calculator and an independent
#          Go implementation give 6.1; Red Hat's 5.9 there was a regression (its pull request #52)
V4_EXAMPLES = [
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:H/VA:L/SC:N/SI:H/SA:L", 9.2),  # rh-b
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:H/SI:N/SA:L", 7.8),  # rh-b
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:L/SA:H", 7.9),  # rh-b
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.6),  # rh-b
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:P/VC:H/VI:L/VA:L/SC:L/SI:L/SA:L", 7.0),  # rh-b
    ("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:N/SA:N", 2.1),  # rh-b
    ("CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:A/VC:N/VI:L/VA:L/SC:L/SI:N/SA:N", 1.8),  # rh-b
    ("CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:H/SA:N", 4.0),  # rh-b
    ("CVSS:4.0/AV:N/AC:H/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:L/SA:N", 9.5),  # rh-b
    ("CVSS:4.0/AV:N/AC:L/AT:P/PR:H/UI:P/VC:L/VI:H/VA:H/SC:N/SI:L/SA:N", 5.9),  # rh-b
    ("CVSS:4.0/AV:N/AC:H/AT:N/PR:L/UI:A/VC:N/VI:L/VA:L/SC:H/SI:H/SA:L", 5.0),  # rh-b
    ("CVSS:4.0/AV:P/AC:H/AT:N/PR:L/UI:A/VC:N/VI:L/VA:N/SC:N/SI:N/SA:L", 1.0),  # rh-b
    ("CVSS:4.0/AV:P/AC:H/AT:N/PR:H/UI:P/VC:H/VI:H/VA:N/SC:L/SI:H/SA:N", 6.8),  # rh-b
    ("CVSS:4.0/AV:P/AC:H/AT:P/PR:N/UI:N/VC:H/VI:H/VA:N/SC:H/SI:H/SA:H", 7.2),  # rh-b
    ("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:N/VA:H/SC:N/SI:N/SA:N", 4.4),  # rh-b
    ("CVSS:4.0/AV:P/AC:H/AT:N/PR:H/UI:A/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0),  # rh-b
    ("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:H/IR:H/AR:H", 7.3),
    ("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:H/IR:M/AR:L", 7.1),
    ("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:M/IR:M/AR:M", 5.5),
    ("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/CR:L/IR:L/AR:L", 5.4),
    (  # first
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A/CR:H/IR:H/AR:H"
        "/MSI:S/MSA:S",
        10.0,
    ),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:L/SI:L/SA:L/E:U/CR:M/IR:M/AR:M", 6.8),
    ("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:H/SC:L/SI:L/SA:L/E:U/CR:M/IR:H/AR:M", 3.0),
    (  # first
        "CVSS:4.0/AV:A/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U/CR:H/IR:H/AR:H"
        "/MSI:S/MSA:S",
        7.6,
    ),
    (  # first
        "CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:P/VC:H/VI:N/VA:N/SC:H/SI:H/SA:H/E:P/CR:M/IR:H/AR:M"
        "/MAV:N/MAC:H/MAT:X/MPR:N/MUI:N/MVC:L/MVI:N/MVA:X/MSC:N/MSI:H/MSA:X",
        4.9,
    ),
    (  # first
        "CVSS:4.0/AV:P/AC:H/AT:P/PR:N/UI:A/VC:H/VI:H/VA:N/SC:L/SI:H/SA:H/E:A/CR:H/IR:X/AR:H"
        "/MAV:X/MAC:L/MAT:N/MPR:H/MUI:P/MVC:X/MVI:L/MVA:H/MSC:L/MSI:X/MSA:X",
        7.1,
    ),
    (  # first
        "CVSS:4.0/AV:A/AC:L/AT:P/PR:L/UI:P/VC:H/VI:N/VA:L/SC:N/SI:N/SA:L/E:U/CR:H/IR:L/AR:H"
        "/MAV:X/MAC:H/MAT:N/MPR:X/MUI:P/MVC:L/MVI:N/MVA:L/MSC:H/MSI:L/MSA:S",
        1.1,
    ),
    (  # first
        "CVSS:4.0/AV:A/AC:H/AT:P/PR:L/UI:P/VC:N/VI:L/VA:L/SC:N/SI:N/SA:H/E:X/CR:X/IR:X/AR:M"
        "/MAV:N/MAC:H/MAT:P/MPR:X/MUI:N/MVC:H/MVI:X/MVA:L/MSC:H/MSI:X/MSA:S",
        8.6,
    ),
    (  # first
        "CVSS:4.0/AV:L/AC:H/AT:P/PR:L/UI:N/VC:H/VI:L/VA:H/SC:N/SI:H/SA:N/E:P/CR:H/IR:H/AR:M"
        "/MAV:X/MAC:L/MAT:N/MPR:L/MUI:N/MVC:X/MVI:H/MVA:L/MSC:X/MSI:H/MSA:S",
        9.2,
    ),
    (  # first
        "CVSS:4.0/AV:A/AC:H/AT:N/PR:H/UI:A/VC:H/VI:H/VA:H/SC:N/SI:L/SA:N/E:A/CR:M/IR:M/AR:X"
        "/MAV:X/MAC:L/MAT:P/MPR:X/MUI:X/MVC:L/MVI:N/MVA:N/MSC:X/MSI:X/MSA:X",
        1.0,
    ),
    (  # first
        "CVSS:4.0/AV:P/AC:H/AT:N/PR:N/UI:A/VC:N/VI:H/VA:N/SC:N/SI:L/SA:L/E:A/CR:L/IR:L/AR:X"
        "/MAV:N/MAC:X/MAT:P/MPR:N/MUI:N/MVC:N/MVI:N/MVA:N/MSC:X/MSI:X/MSA:L",
        6.3,
    ),
    (  # first
        "CVSS:4.0/AV:N/AC:H/AT:N/PR:H/UI:N/VC:H/VI:N/VA:N/SC:L/SI:L/SA:L/E:X/CR:L/IR:H/AR:M"
        "/MAV:X/MAC:L/MAT:X/MPR:H/MUI:X/MVC:N/MVI:L/MVA:X/MSC:H/MSI:S/MSA:X",
        8.0,
    ),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:L/SC:N/SI:N/SA:N/E:A/MAV:A", 8.7),  # doc
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 6.9),  # doc
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:H/SI:H/SA:H", 8.6),  # tie, #66
    ("CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:A/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N/E:U", 0.4),  # tie, #48
    ("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:N/SC:H/SI:H/SA:H/E:P", 9.0),  # tie, #48
    ("CVSS:4.0/AV:A/AC:L/AT:P/PR:N/UI:N/VC:H/VI:L/VA:L/SC:N/SI:N/SA:N", 6.1),  # #53
    (  # tie, cvss #60
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:A/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N/E:P/CR:L/IR:L/AR:L"
        "/MAV:N/MAC:L/MAT:N/MPR:L/MUI:A/MVC:H/MVI:H/MVA:H/MSC:H/MSI:S/MSA:S"
        "/S:P/AU:Y/R:I/V:C/RE:H/U:Red",
        8.5,
    ),
    (  # tie, cvss #63; its metrics are out of the specification's order
        "CVSS:4.0/AV:L/AC:H/AT:N/PR:N/UI:N/VC:L/VI:H/VA:L/SC:N/SI:N/SA:H"
        "/S:N/AU:N/R:I/V:C/RE:M/U:Green/MAV:A/MAC:L/MAT:N/MPR:N/MUI:N/MVC:H/MVI:N/MVA:H"
        "/MSC:H/MSI:H/MSA:H/CR:H/IR:M/AR:H/E:A",
        8.6,
    ),
    (  # tie, cvss #58
        "CVSS:4.0/AV:P/AC:H/AT:P/PR:L/UI:P/VC:N/VI:L/VA:H/SC:N/SI:L/SA:N/E:U/CR:H/IR:H/AR:H"
        "/MAV:L/MAC:H/MAT:P/MPR:L/MUI:P/MVC:L/MVI:L/MVA:L/MSC:L/MSI:L/MSA:S"
        "/S:N/AU:N/R:U/V:D/RE:L/U:Clear",
        1.0,
    ),
]


@pytest.mark.parametrize(("vector", "score"), V4_EXAMPLES)
def test_v4_examples(vector: str, score: float) -> None:
    assert v4_score(vector) == score


@pytest.mark.parametrize(
    "vector",
    [
        "",
        "CVSS:4.0",
        "CVSS:4.0/",
        "cvss:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:3.1/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",  # SA missing
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/",
        "CVSS:4.0/AV:N/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:4.0/AV:X/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",  # base is never X
        "CVSS:4.0/AV:NA/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:4.0/AV:/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:S",  # S: MSI/MSA only
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MSC:S",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:Z",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:red",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/FOO:1",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N//E:A",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/S",
    ],
)
def test_malformed_v4_vectors_raise_value_error(vector: str) -> None:
    with pytest.raises(ValueError):
        v4_score(vector)


_V4_BASE = {
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
_V4_OPTIONAL = {
    "E": "XAPU",
    "CR": "XHML",
    "IR": "XHML",
    "AR": "XHML",
    **{"M" + k: "X" + v for k, v in _V4_BASE.items()},
    "MSI": "XSHLN",
    "MSA": "XSHLN",
    "S": "XNP",
    "AU": "XNY",
    "R": "XAUI",
    "V": "XDC",
    "RE": "XLMH",
}


def _v4(metrics: dict[str, str]) -> str:
    return "CVSS:4.0/" + "/".join(f"{k}:{v}" for k, v in metrics.items())


_v4_metrics = st.fixed_dictionaries(
    {k: st.sampled_from(v) for k, v in _V4_BASE.items()},
    optional={k: st.sampled_from(v) for k, v in _V4_OPTIONAL.items()},
)


@given(_v4_metrics)
def test_any_valid_v4_vector_scores_within_range_with_one_decimal(m: dict[str, str]) -> None:
    score = v4_score(_v4(m))
    assert 0.0 <= score <= 10.0
    assert round(score, 1) == score


@given(_v4_metrics, st.randoms(use_true_random=False))
def test_v4_defaults_order_and_supplemental_metrics_do_not_change_the_score(
    m: dict[str, str], rnd: random.Random
) -> None:
    score = v4_score(_v4(m))
    # Not Defined is the worst case (E:A, CR/IR/AR:H), or the base value for a Modified metric.
    defaults = {"E": "A", "CR": "H", "IR": "H", "AR": "H"}
    explicit = dict(m)
    for name, value in m.items():
        if value == "X" and name in defaults:
            explicit[name] = defaults[name]
        elif value == "X" and name.startswith("M"):
            explicit[name] = m[name[1:]]
    assert v4_score(_v4(explicit)) == score
    without = {k: v for k, v in m.items() if k not in ("S", "AU", "R", "V", "RE")}
    assert v4_score(_v4(without)) == score
    shuffled = list(m.items())
    rnd.shuffle(shuffled)
    assert v4_score(_v4(dict(shuffled))) == score


@given(st.text(max_size=200) | st.text(alphabet="CVS:4.0/AVNLPHXMEUSIR", max_size=120))
def test_v4_never_crashes_on_random_text(text: str) -> None:
    try:
        score = v4_score(text)
    except ValueError:
        return
    assert 0.0 <= score <= 10.0
    assert parse_v4(text)


def test_all_v4_base_vectors_score_and_only_no_impact_scores_zero() -> None:
    zero = 0
    for values in itertools.product(*_V4_BASE.values()):
        score = v4_score(_v4(dict(zip(_V4_BASE, values, strict=True))))
        assert 0.0 <= score <= 10.0
        zero += score == 0.0
        assert (score == 0.0) == (set(values[5:]) == {"N"})
    assert zero == 4 * 2 * 2 * 3 * 3


def test_v4_ratings_use_the_same_table() -> None:
    scores = [v4_score(vector) for vector, _ in V4_EXAMPLES[:4]]
    assert [rating(s) for s in scores] == [
        Severity.CRITICAL,
        Severity.HIGH,
        Severity.HIGH,
        Severity.HIGH,
    ]
