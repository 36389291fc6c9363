"""OSV matching semantics, case by case: versions lists, introduced/fixed/last_affected/
limit, several ranges, GIT ranges ignored, bad bounds skipped, aliases folded."""

from __future__ import annotations

import pytest

from seawall.model import Advisory, Affected, Ecosystem, Package, Range, Severity
from seawall.vulndb.match import Matcher, evaluate
from seawall.vulndb.versions import scheme_for

KEY = scheme_for("PyPI").key


def entry(
    *events: tuple[str, str],
    versions: tuple[str, ...] = (),
    kind: str = "ECOSYSTEM",
    ecosystem: str = "PyPI",
    severity: str = "",
) -> Affected:
    return Affected(
        ecosystem=ecosystem,
        package="demo",
        versions=versions,
        severity=severity,
        ranges=(Range(type=kind, events=events),) if events else (),
    )


@pytest.mark.parametrize(
    ("version", "affected", "fix"),
    [
        ("0.9", False, ""),
        ("1.0", True, "1.5"),
        ("1.4.9", True, "1.5"),
        ("1.5", False, ""),
        ("2.0", True, "2.3"),
        ("2.3", False, ""),
        ("9", False, ""),
    ],
)
def test_introduced_fixed_pairs(version: str, affected: bool, fix: str) -> None:
    rng = entry(("introduced", "1.0"), ("fixed", "1.5"), ("introduced", "2.0"), ("fixed", "2.3"))
    verdict = evaluate(rng, version, KEY)
    assert (verdict.affected, verdict.fixed_version) == (affected, fix)


def test_introduced_zero_and_last_affected() -> None:
    rng = entry(("introduced", "0"), ("last_affected", "3.1"))
    assert evaluate(rng, "0.0.1", KEY).affected
    assert evaluate(rng, "3.1", KEY).affected
    assert evaluate(rng, "3.1", KEY).fixed_version == ""
    assert not evaluate(rng, "3.1.1", KEY).affected


def test_limit_caps_the_range() -> None:
    rng = entry(("introduced", "0"), ("limit", "2.0"))
    assert evaluate(rng, "1.9", KEY).affected
    assert not evaluate(rng, "2.0", KEY).affected


def test_versions_list_counts_and_git_ranges_are_ignored() -> None:
    listed = entry(("introduced", "0"), ("fixed", "deadbeef"), kind="GIT", versions=("1.2",))
    assert evaluate(listed, "1.2", KEY).affected
    assert not evaluate(listed, "1.3", KEY).affected


def test_an_unparsable_bound_does_not_hide_the_rest() -> None:
    rng = entry(("introduced", "0"), ("fixed", "not a version!"), ("fixed", "2.0"))
    assert evaluate(rng, "1.0", KEY).fixed_version == "2.0"


def test_prereleases_order_before_the_release() -> None:
    rng = entry(("introduced", "0"), ("fixed", "2.0"))
    assert evaluate(rng, "2.0rc1", KEY).affected
    assert not evaluate(rng, "2.0.post1", KEY).affected


class MemoryStore:
    """The matcher's store protocol over a dict, to test folding in isolation."""

    def __init__(self, advisories: list[Advisory]) -> None:
        self.advisories = {a.id: a for a in advisories}

    def affected(self, ecosystem: str, release: str, package: str) -> list[tuple[str, Affected]]:
        return [
            (a.id, e)
            for a in self.advisories.values()
            for e in a.affected
            if e.ecosystem.split(":")[0] == ecosystem and e.package == package
        ]

    def advisory(self, advisory_id: str) -> Advisory:
        return self.advisories[advisory_id]


def test_aliases_are_folded_into_one_finding_with_the_cve_id() -> None:
    affected = entry(("introduced", "0"), ("fixed", "1.1"))
    store = MemoryStore(
        [
            Advisory(
                id="PYSEC-1",
                aliases=("CVE-2020-1",),
                affected=(affected,),
                severity=Severity.MEDIUM,
            ),
            Advisory(
                id="GHSA-x",
                aliases=("CVE-2020-1",),
                affected=(entry(("introduced", "0"), ("fixed", "1.2"), severity="HIGH"),),
                summary="bad thing",
            ),
            Advisory(id="PYSEC-2", affected=(affected,)),
        ]
    )
    package = Package(ecosystem=Ecosystem.PYPI, name="demo", version="1.0", path="x/METADATA")
    found = Matcher(store).match_package(package, _query(package))
    by_id = {v.advisory.id: v for v in found}
    assert set(by_id) == {"CVE-2020-1", "PYSEC-2"}
    folded = by_id["CVE-2020-1"]
    assert set(folded.advisory.aliases) == {"PYSEC-1", "GHSA-x"}
    assert folded.severity is Severity.HIGH  # the ecosystem's own rating wins
    assert folded.fixed_version == "1.2"  # fixed only when every source agrees
    assert folded.advisory.summary == "bad thing"


def _query(package: Package):  # type: ignore[no-untyped-def]
    from seawall.vulndb.ecosystems import query_for

    return query_for(package, None)
