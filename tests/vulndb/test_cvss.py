"""CVSS base scores against the FIRST specification's worked examples, and properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.model import Severity
from seawall.vulndb.cvss import rating, v2_base_score, v3_base_score


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
