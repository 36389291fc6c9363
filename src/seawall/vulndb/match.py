"""Match an inventory against the advisory store, with OSV's semantics exactly.

A version is affected by an ``Affected`` entry when it is listed in ``versions`` or lies in
one of its ``ECOSYSTEM``/``SEMVER`` ranges (``GIT`` ranges name commits, not releases, and
are ignored). A range is evaluated as OSV specifies: its events sorted by version, walked up
to the installed version, ``introduced`` opening and ``fixed``/``last_affected`` closing;
a ``limit`` caps the range. Versions are ordered by the ecosystem's own scheme.

Several advisories often describe one vulnerability (a GHSA, a PYSEC and the CVE they
alias): those sharing an id or alias are folded into one finding per package, with every id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from seawall.model import Advisory, Affected, Inventory, Package, Range, Severity, Vulnerability
from seawall.vulndb.ecosystems import Query, query_for
from seawall.vulndb.versions import InvalidVersion, scheme_for

Key = Callable[[str], Any]
_RANGE_TYPES = frozenset(("ECOSYSTEM", "SEMVER"))
_ZERO = "0"


class AdvisorySource(Protocol):
    """What the matcher needs from the store (``seawall.vulndb.store.AdvisoryStore``)."""

    def affected(self, ecosystem: str, release: str, package: str) -> list[tuple[str, Affected]]:
        """(advisory id, entry) for every advisory naming the package in that release."""

    def advisory(self, advisory_id: str) -> Advisory:
        """The advisory record."""


class Verdict(msgspec.Struct, frozen=True):
    """Whether one entry affects a version, and the lowest fix above it ('' if none)."""

    affected: bool
    fixed_version: str = ""


def _in_range(installed: Any, rng: Range, key: Key) -> tuple[bool, str]:
    """(affected, lowest fix above the installed version in this range), per OSV."""
    opened_at_zero = False
    bounds: list[tuple[Any, str, str]] = []
    for kind, value in rng.events:
        if kind == "introduced" and value == _ZERO:
            opened_at_zero = True  # "0" is below every version
            continue
        try:
            bounds.append((key(value), kind, value))
        except InvalidVersion:
            continue  # one bad bound must not hide the rest of the range
    if any(kind == "limit" and installed >= bound for bound, kind, _ in bounds):
        return False, ""
    bounds.sort(key=lambda b: b[0])
    affected = opened_at_zero
    for bound, kind, _ in bounds:
        if kind == "introduced":
            if bound > installed:
                break
            affected = True
        elif kind == "fixed":
            if bound > installed:
                break
            affected = False
        elif kind == "last_affected":
            if bound >= installed:
                break
            affected = False
    if not affected:
        return False, ""
    fixes = [
        (bound, value) for bound, kind, value in bounds if kind == "fixed" and bound > installed
    ]
    return True, min(fixes, key=lambda f: f[0])[1] if fixes else ""


def evaluate(entry: Affected, version: str, key: Key) -> Verdict:
    """Does ``entry`` affect ``version``? Raises InvalidVersion if ``version`` is unparsable."""
    installed = key(version)
    if version in entry.versions:
        return Verdict(True, _lowest_fix(entry, installed, key))
    for rng in entry.ranges:
        if rng.type not in _RANGE_TYPES:
            continue
        hit, fix = _in_range(installed, rng, key)
        if hit:
            return Verdict(True, fix)
    return Verdict(False)


def _lowest_fix(entry: Affected, installed: Any, key: Key) -> str:
    """For a version listed explicitly: the lowest fixed event above it, if any."""
    fixes = []
    for rng in entry.ranges:
        for kind, value in rng.events:
            if kind != "fixed":
                continue
            try:
                bound = key(value)
            except InvalidVersion:
                continue
            if bound > installed:
                fixes.append((bound, value))
    return min(fixes, key=lambda f: f[0])[1] if fixes else ""


@dataclass
class _Group:
    """Advisories about one vulnerability of one package, being folded together."""

    ids: set[str] = field(default_factory=set)
    hits: list[tuple[Advisory, Affected, Verdict]] = field(default_factory=list)


def _severity(advisory: Advisory, entry: Affected) -> tuple[Severity, str]:
    if entry.severity:
        try:
            return Severity.parse(entry.severity), entry.ecosystem.split(":")[0].lower()
        except ValueError:
            pass
    if advisory.severity is not Severity.UNKNOWN:
        return advisory.severity, "cvss" if advisory.cvss_vector else "advisory"
    return Severity.UNKNOWN, ""


def _primary(ids: Iterable[str]) -> str:
    """The id to show: a CVE when there is one, else the first in sorted order."""
    ordered = sorted(ids)
    return next((i for i in ordered if i.startswith("CVE-")), ordered[0])


def _fold(package: Package, group: _Group, key: Key) -> Vulnerability:
    """One finding from several advisories of the same vulnerability."""
    advisories = {advisory.id: advisory for advisory, _, _ in group.hits}
    primary_id = _primary(group.ids)
    main = advisories.get(primary_id) or max(
        advisories.values(), key=lambda a: (a.severity, len(a.summary))
    )
    rated = [_severity(advisory, entry) for advisory, entry, _ in group.hits]
    own = [r for r in rated if r[1] not in ("cvss", "advisory", "")]
    severity, source = max(own or rated, key=lambda r: r[0])
    fixes = [verdict.fixed_version for _, _, verdict in group.hits]
    fixed = ""
    if all(fixes):
        fixed = max(fixes, key=key)  # every advisory must agree the version is fixed
    aliases = tuple(sorted(group.ids - {primary_id}))
    merged = msgspec.structs.replace(
        main,
        id=primary_id,
        aliases=aliases,
        summary=main.summary or next((a.summary for a in advisories.values() if a.summary), ""),
        known_exploited=any(a.known_exploited for a in advisories.values()),
        epss=max((a.epss for a in advisories.values() if a.epss is not None), default=None),
        references=tuple(dict.fromkeys(r for a in advisories.values() for r in a.references)),
    )
    return Vulnerability(
        advisory=merged,
        package=package,
        severity=severity,
        fixed_version=fixed,
        severity_source=source,
    )


class Matcher:
    """Matches packages against a store; caches per (query) so repeated packages are free."""

    def __init__(self, store: AdvisorySource) -> None:
        self.store = store
        self.warnings: list[str] = []
        self._results: dict[Query, list[tuple[Advisory, Affected, Verdict]]] = {}
        self._folded: dict[Query, list[Vulnerability]] = {}

    def _hits(self, query: Query) -> list[tuple[Advisory, Affected, Verdict]]:
        cached = self._results.get(query)
        if cached is not None:
            return cached
        hits: list[tuple[Advisory, Affected, Verdict]] = []
        for release in query.releases:
            entries = self.store.affected(query.ecosystem, release, query.name)
            if not entries:
                continue
            key = scheme_for(entries[0][1].ecosystem).key
            for advisory_id, entry in entries:
                try:
                    verdict = evaluate(entry, query.version, key)
                except InvalidVersion:
                    self.warnings.append(
                        f"{query.ecosystem} {query.name} {query.version}: "
                        "version not understood; not matched"
                    )
                    break
                if verdict.affected:
                    hits.append((self.store.advisory(advisory_id), entry, verdict))
            break  # the most specific release that has any advisory decides
        self._results[query] = hits
        return hits

    def match_package(self, package: Package, query: Query) -> list[Vulnerability]:
        """The vulnerabilities of one package, one per vulnerability (aliases folded).

        Folding is done once per lookup: a fleet shares its base images, so the same package
        at the same version recurs in many inventories and only the package record differs.
        """
        folded = self._folded.get(query)
        if folded is None:
            folded = self._fold_hits(package, query)
            self._folded[query] = folded
        return [
            v if v.package is package else msgspec.structs.replace(v, package=package)
            for v in folded
        ]

    def _fold_hits(self, package: Package, query: Query) -> list[Vulnerability]:
        hits = self._hits(query)
        if not hits:
            return []
        groups: list[_Group] = []
        owner: dict[str, _Group] = {}
        for advisory, entry, verdict in hits:
            names = {advisory.id, *advisory.aliases}
            found = {id(owner[n]): owner[n] for n in names if n in owner}
            group = _Group() if not found else next(iter(found.values()))
            for other in found.values():
                if other is not group:  # two groups joined by this advisory
                    group.ids |= other.ids
                    group.hits += other.hits
                    groups.remove(other)
            if not found:
                groups.append(group)
            group.ids |= names
            group.hits.append((advisory, entry, verdict))
            for name in group.ids:
                owner[name] = group
        key = scheme_for(hits[0][1].ecosystem).key
        return [_fold(package, group, key) for group in groups]

    def match(self, inventory: Inventory) -> list[Vulnerability]:
        """Every vulnerability of every package of ``inventory``."""
        found: list[Vulnerability] = []
        for package in inventory.packages:
            query = query_for(package, inventory.distro)
            if query is not None:
                found.extend(self.match_package(package, query))
        found.sort(key=lambda v: (-v.severity, v.package.name, v.advisory.id))
        return found
