"""Our orderings against the package managers' own code, on thousands of real version strings.

Each test sorts a corpus with our key, then asks the real tool about every pair of neighbours
(which pins the whole order down) and about random pairs, in one batched process per tool.
The tools are Debian packages: dpkg, python3-apt, python3-rpm, node-semver, golang-go with
golang-golang-x-mod-dev, libmaven3-core-java with default-jdk-headless, ruby, php-cli with
php-composer-semver.
"""

from __future__ import annotations

import subprocess

import pytest
from packaging.version import InvalidVersion as PackagingInvalid
from packaging.version import Version

from seawall.vulndb.versions import scheme_for
from tests.vulndb.versions import oracle
from tests.vulndb.versions.oracle import accepted, ask, corpus, disagreements, fuzz, pairs


def _installed_debian_versions() -> list[str]:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}\\n"], capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def _check(ecosystem: str, tool: str, versions: list[str], extra: int, seed: int) -> None:
    key = scheme_for(ecosystem).key
    versions = accepted(versions, key)
    checked = pairs(versions, key, extra, seed)
    wrong = disagreements(key, checked, ask(tool, checked))
    assert not wrong, f"{len(wrong)} of {len(checked)} pairs disagree with {tool}: {wrong[:15]}"


def _check_validity(ecosystem: str, tool: str, versions: list[str], skip: str = "") -> None:
    """Our key accepts exactly the strings the tool accepts (answers in ``skip`` ignored)."""
    key = scheme_for(ecosystem).key
    versions = list(dict.fromkeys(versions))
    valid = set(accepted(versions, key))
    wrong = [
        (v, answer)
        for v, answer in zip(versions, ask(tool, versions), strict=True)
        if answer not in skip and (answer == "1") != (v in valid)
    ]
    assert not wrong, f"{len(wrong)} validity disagreements with {tool}: {wrong[:15]}"


def test_dpkg_against_apt_on_debian_advisories() -> None:
    versions = corpus("debian") + _installed_debian_versions()
    _check("Debian:12", "apt", versions, extra=4000, seed=1)


def test_dpkg_against_dpkg_compare_versions() -> None:
    # dpkg runs once per pair, so a sample: the trickiest region (~, +, epochs) and random pairs.
    versions = [*corpus("debian")[::10], "1.0~rc1", "1.0~", "1.0", "1.0-0", "1.0+b1", "1:0.9"]
    _check("Ubuntu:22.04:LTS", "dpkg", versions, extra=200, seed=2)


def test_dpkg_against_apt_on_random_strings() -> None:
    versions = fuzz("0123456789.~+-:aZ", 2000, seed=3)
    _check("Debian", "apt", versions, extra=2000, seed=3)


def test_rpm_against_rpm() -> None:
    versions = (
        corpus("rpm")
        + corpus("debian")[::4]
        + corpus("alpine")
        + fuzz("0123456789.~^-:_+aZz", 3000, seed=4)
    )
    _check("Red Hat", "rpm", versions, extra=5000, seed=4)


@pytest.mark.parametrize(
    ("ecosystem", "name"), [("npm", "npm"), ("crates.io", "crates"), ("SEMVER", "crates")]
)
def test_semver_against_node_semver(ecosystem: str, name: str) -> None:
    versions = corpus(name) + corpus("go") + fuzz("0123456789.-+abAB", 2000, seed=5)
    # node-semver only knows full x.y.z versions; Go's shorthands are checked against Go.
    versions = [v for v in versions if v.lstrip("v").count(".") >= 2]
    _check(ecosystem, "node-semver", versions, extra=3000, seed=5)


def test_npm_validity_against_node_semver() -> None:
    strings = corpus("npm") + corpus("go") + fuzz("0123456789.-+ab", 3000, seed=6, longest=8)
    _check_validity("npm", "node-semver", [*strings, "v1.2.3", "=1.2.3", " 1.2.3", "01.2.3"])


def test_go_against_golang_x_mod_semver() -> None:
    versions = ["v" + v for v in corpus("go")] + ["v" + v for v in fuzz("0123456789.-+ab", 1000, 7)]
    versions += ["v1", "v1.2", "v1.2.0", "v2", "v0.0.0-20191109021931-daa7c04131f5"]
    _check("Go", "go", versions, extra=3000, seed=7)
    _check_validity("Go", "go", [*versions, "v1-pre", "v1.2+meta", "v01.2.3", "v1.2.3.4"])


def test_maven_against_comparable_version() -> None:
    versions = (
        corpus("maven")
        + corpus("go")[::3]
        + corpus("pypi")[::4]
        + corpus("npm")
        + fuzz("0123456789.-abcmrspgz", 2000, seed=8)
    )
    _check("Maven", "maven", versions, extra=4000, seed=8)


def test_rubygems_against_gem_version() -> None:
    strings = corpus("rubygems") + corpus("pypi") + fuzz("0123456789.-abAZ", 2000, seed=9)
    _check_validity("RubyGems", "ruby", strings)
    _check("RubyGems", "ruby", strings, extra=4000, seed=9)


def test_packagist_against_composer() -> None:
    strings = corpus("packagist") + corpus("npm") + corpus("pypi")[::4]
    strings += ["v" + v for v in corpus("go")[::5]] + fuzz("0123456789.-_abpdevRC", 2000, seed=10)
    _check_validity("Packagist", "composer", strings, skip="b")
    _check("Packagist", "composer", strings, extra=4000, seed=10)


def test_pep440_against_packaging() -> None:
    """Valid versions order as packaging's Version objects do (legacy ones: test_tables)."""
    key = scheme_for("PyPI").key
    versions = []
    for v in corpus("pypi") + fuzz("0123456789.-+!abcrdevpost", 3000, seed=11):
        try:
            Version(v)
        except PackagingInvalid:
            continue
        versions.append(v)
    checked = pairs(versions, key, 4000, 11)
    wrong = [
        (a, b)
        for a, b in checked
        if oracle.sign(key, a, b) != (Version(a) > Version(b)) - (Version(a) < Version(b))
    ]
    assert len(checked) > 6000
    assert not wrong, wrong[:15]


def test_every_oracle_tool_is_the_real_one() -> None:
    """Guard against a silently different oracle: each tool answers a known pair."""
    assert ask("dpkg", [("1.0~rc1", "1.0")]) == ["-1"]
    assert ask("rpm", [("1.0^git1", "1.0.1")]) == ["-1"]
    assert ask("maven", [("1.0-rc1", "1.0")]) == ["-1"]
    assert oracle.MAVEN_JAR.exists()
