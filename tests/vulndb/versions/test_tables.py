"""Hand-checked orderings, for the schemes and corners no installed tool can answer.

apk-tools is not packaged for Debian, so the apk cases follow apk-tools' src/version.c rules
case by case (each line names the rule); NuGet has no Debian package either, so its cases
follow NuGet.Versioning's documented rules; the PEP 440 legacy cases were checked once against
packaging 21.3's LegacyVersion (the last release that had it).
"""

from __future__ import annotations

import pytest

from seawall.vulndb.versions import InvalidVersion, compare, scheme_for

ORDER = {"<": -1, "=": 0, ">": 1}


def _table(text: str) -> list[tuple[str, str, str]]:
    rows = []
    for line in text.strip().splitlines():
        a, op, b = line.split("#")[0].split()
        rows.append((a, op, b))
    return rows


APK = _table(
    """
    1.0 < 1.1
    1.0_rc1 < 1.0                 # a pre-release suffix makes the version older
    1.0_alpha < 1.0_beta          # alpha < beta < pre < rc
    1.0_beta < 1.0_pre
    1.0_pre < 1.0_rc
    1.0_alpha2 > 1.0_alpha
    1.0_alpha10 > 1.0_alpha9      # suffix numbers are integers
    1.0 < 1.0_cvs1                # post-release suffixes make it newer
    1.0_cvs1 < 1.0_svn1           # cvs < svn < git < hg < p
    1.0_svn1 < 1.0_git1
    1.0_git1 < 1.0_hg1
    1.0_hg1 < 1.0_p1
    1.0_p9 < 1.0_p10
    1.0_alpha_pre2 < 1.0_alpha    # a second pre-release suffix: older still
    1.0_p1 > 1.0_p1_rc1
    1.0 < 1.0a                    # a letter after the numbers is newer
    1.0a < 1.0b
    1.0a > 1.0_p1                 # letter ranks before suffix in the grammar
    1.0a < 1.0.0                  # a further number beats a letter
    1.0.1 > 1.0a
    1.0-r1 > 1.0
    1.0-r10 > 1.0-r9
    1.0_p1 > 1.0-r5               # a suffix beats a revision
    1.0.1 > 1.0-r99
    1.0~abc > 1.0                 # a commit hash is newer than nothing
    1.0~abc > 1.0-r1              # and newer than a revision alone
    1.0~abc < 1.0_p1
    1.0~abc < 1.0~abd             # hashes compare as strings
    1.0~abc-r1 > 1.0~abc
    1.05 < 1.5                    # a leading zero after a dot: string comparison
    1.0 < 1.00
    1.00 < 1.01
    1.09 < 1.1
    1.010 > 1.01
    01.0 = 1.0                    # the first number is always an integer
    010 = 10
    1.2.3-r0 < 1.2.3-r1
    1.2.3 < 1.2.3-r0              # even -r0 beats the end of the version
    20050718-r1 < 20050718-r2
    3.0.20060720 < 20060720
    1.0_pre20191002222144 < 1.0_pre20210530193627
    """
)

APK_INVALID = [
    "",
    "a1.0",
    "1.0.",
    "1..0",
    "1.0-1",  # a revision is -rN
    "1.0-r",
    "1.0_foo",
    "1.0_p1.2",
    "1.0ab",  # one letter at most
    "1.0A",
    "1.0a1",  # no digits right after a letter
    "1.0-r1-r2",
    "1.0~",
    "1.0~ABC",  # hashes are lowercase hex
    "1.0-r1_p1",
    "6.6.2p1-r0",  # a real typo from the Alpine secdb
    "0.12.5.-r0",  # another
]

NUGET = _table(
    """
    1.0 = 1.0.0
    1.0.0 = 1.0.0.0
    1.0.0.1 > 1.0.0
    01.02.03 = 1.2.3
    1.0.0-beta < 1.0.0
    1.0.0-BETA = 1.0.0-beta       # labels ignore case
    1.0.0-alpha < 1.0.0-Beta
    1.0.0-beta.2 < 1.0.0-beta.10
    1.0.0-beta.2 < 1.0.0-beta.x   # numbers before words
    1.0.0-beta < 1.0.0-beta.1     # a longer label list is newer
    1.0.0+build1 = 1.0.0+build2   # metadata never counts
    1.0.0-rc.1+x < 1.0.0
    """
)
NUGET_INVALID = ["", "v1.0.0", "1.0.0.0.0", "1.0.0-", "1..0", "1.0.0-beta..1", "abc"]

LEGACY_PYPI = _table(
    """
    2004d < 0.1                   # legacy versions sort before every valid one
    1.0-SNAPSHOT < 1.0-rc1
    1.0-SNAPSHOT < 1.0.x
    1.0.preview2 > 1.0.x
    1.0-SNAPSHOT < 2004d
    1.0-final < 1.0.x
    r123 > r99
    99999999.x > 100000000.x      # LegacyVersion pads to 8 digits, then compares text
    foo-1 < foo2
    1.0-beta.x > 1.0-alpha.x
    1.0.0.0.x = 1.x
    """
)

CASES = [("Alpine:v3.19", APK), ("NuGet", NUGET), ("PyPI", LEGACY_PYPI)]


@pytest.mark.parametrize(
    ("ecosystem", "a", "op", "b"),
    [(eco, a, op, b) for eco, rows in CASES for a, op, b in rows],
)
def test_hand_checked_order(ecosystem: str, a: str, op: str, b: str) -> None:
    assert compare(ecosystem, a, b) == ORDER[op]
    assert compare(ecosystem, b, a) == -ORDER[op]


@pytest.mark.parametrize(
    ("ecosystem", "version"),
    [("Wolfi", v) for v in APK_INVALID]
    + [("NuGet", v) for v in NUGET_INVALID]
    + [("Debian", v) for v in ["", " ", "1.0 1", ":1.0", "a:1.0", "1:", "1.0-", "-1", "1.0\x00"]]
    + [("Debian", "1:2.0é"), ("Red Hat", ""), ("Red Hat", "1.0 1"), ("Red Hat", "1:-1")]
    + [("npm", v) for v in ["1.0", "01.0.0", "1.0.0-01", " 1.0.0", "=1.0.0", "1.0.0-", "9" * 20]]
    + [("crates.io", v) for v in ["v1.0.0", "1.0", "1.0.0-beta..1"]]
    + [("Go", v) for v in ["v1-pre", "v1.2-pre", "v1.2+meta", "v01.2.3", "1.2.3.4"]]
    + [("Packagist", v) for v in ["dev-master", "1.x-dev", "1.0.x-dev", "abc", "1.0.0-foo"]]
    + [("RubyGems", v) for v in ["a", "1.0.", "1..0", "1.0-", "-1", "1.0 1"]]
    + [("Maven", "1.0-é")]
    + [("PyPI", v) for v in ["", "   ", "1.0\n2", "not a version!", "abc", "1.0 2", "1.0é"]],
)
def test_refused(ecosystem: str, version: str) -> None:
    with pytest.raises(InvalidVersion) as caught:
        scheme_for(ecosystem).key(version)
    assert isinstance(caught.value, ValueError)
    assert "not a valid version" in caught.value.message


def test_overlong_strings_are_refused_everywhere() -> None:
    for ecosystem in ("Debian", "Red Hat", "Alpine", "PyPI", "npm", "Go", "Maven", "RubyGems"):
        with pytest.raises(InvalidVersion, match="not a valid version"):
            scheme_for(ecosystem).key("1." * 400 + "1")


@pytest.mark.parametrize(
    ("ecosystem", "a", "b", "expected"),
    [
        ("Debian", "1:0.1", "9.9", 1),  # epochs first
        ("Debian", "1.0~rc1", "1.0", -1),
        ("Debian", "1.0", "1.0-0", 0),  # an absent revision is 0
        ("Debian", " 1.0", "1.0", 0),
        ("Red Hat", "1.0-1", "1.0", 1),  # an absent release sorts first (labelCompare)
        ("Red Hat", "0:1.0-1", "1.0-1", 0),
        ("Red Hat", "1.0^git1", "1.0", 1),
        ("Red Hat", "1.0^git1", "1.0.1", -1),
        ("Red Hat", "1.0~rc1", "1.0", -1),
        ("PyPI", "1.0.dev0", "1.0a0", -1),
        ("PyPI", "1.0", "1.0.0", 0),
        ("PyPI", "1.0+local.1", "1.0+local.a", 1),
        ("PyPI", "1!0.1", "2.0", 1),
        ("npm", "1.0.0-alpha.1", "1.0.0-alpha.beta", -1),
        ("npm", "v1.0.0", "1.0.0", 0),
        ("crates.io", "1.0.0+a", "1.0.0+b", 0),
        ("Go", "v0.0.0-20191109021931-daa7c04131f5", "v0.0.1", -1),
        ("Go", "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3", 1),  # pseudo after v1.2.3
        ("Go", "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4", -1),
        ("Go", "2.0.0+incompatible", "2.0.0", 0),
        ("Go", "1.22.0-rc.1", "1.21.5", 1),
        ("SEMVER", "1.2", "1.2.0", 0),
        ("Packagist", "v1.0", "1.0.0.0", 0),
        ("Packagist", "1.0.0-RC1", "1.0.0-beta9", 1),
        ("Packagist", "1.0.0-patch1", "1.0.0", 1),
        ("Packagist", "1.0.0-patch1", "1.0.1", -1),
        ("Packagist", "1.0.0-dev", "1.0.0-alpha", -1),
        ("Packagist", "1.0.0-stable", "1.0.0", 0),
        ("Packagist", "1.0.0-beta2-dev", "1.0.0-beta2", -1),
        ("Maven", "1.0.0.RC1", "1.0.0", -1),
        ("Maven", "1-ga", "1", 0),
        ("Maven", "1-sp1", "1", 1),
        ("Maven", "1.0-cr1", "1.0-rc1", 0),
        ("Maven", "1.0-SNAPSHOT", "1.0-rc1", 1),
        ("Maven", "2.0.1", "2.0-1", 1),
        ("RubyGems", "1.0.a", "1.0", -1),
        ("RubyGems", "1.a.0.b", "1.a", -1),
        ("RubyGems", "1.a.0.1", "1.a", 1),
        ("RubyGems", "1.0-rc1", "1.0.pre.rc1", 0),
        ("RubyGems", "", "0", 0),
    ],
)
def test_known_corners(ecosystem: str, a: str, b: str, expected: int) -> None:
    assert compare(ecosystem, a, b) == expected


def test_maven_cycle_as_maven() -> None:
    """ComparableVersion is not transitive on odd strings; we answer each pair as Maven does
    (checked with maven-artifact 3.8.7: each of these three comparisons says "<")."""
    assert compare("Maven", "1.0.alpha-1", "1") == -1
    assert compare("Maven", "1", "1.ga.1") == -1
    assert compare("Maven", "1.ga.1", "1.0.alpha-1") == -1
