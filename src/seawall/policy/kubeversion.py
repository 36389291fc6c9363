"""The cluster's Kubernetes version: past its end of life, or affected by published
advisories (OSV's Go advisories for ``k8s.io/kubernetes``, from the advisory database that
``seawall db update`` keeps).

Distributions decorate the version (``v1.29.4-eks-a1b2c3``, ``v1.30.2+k3s1``,
``v1.28.9-gke.1000``); the upstream ``major.minor.patch`` is what both checks read. A
distribution backports fixes without a new upstream patch number, so a vulnerable verdict
on a managed cluster is a prompt to read its provider's bulletin, as the finding says.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from seawall.model import Ecosystem, Finding, Package, Resource, Status, Vulnerability
from seawall.rules import catalog
from seawall.vulndb.ecosystems import Query
from seawall.vulndb.match import AdvisorySource, Matcher

CATALOG = "k8s-cluster"
END_OF_LIFE_RULE = "k8s-version-end-of-life"
VULNERABLE_RULE = "k8s-version-vulnerable"
# Each minor release's end of patch support (kubernetes.io/releases; 1.34 and 1.35 as
# scheduled there). Releases before 1.24 ended before 2023-07-28.
END_OF_LIFE = {
    "1.24": dt.date(2023, 7, 28), "1.25": dt.date(2023, 10, 28), "1.26": dt.date(2024, 2, 28),
    "1.27": dt.date(2024, 6, 28), "1.28": dt.date(2024, 10, 28), "1.29": dt.date(2025, 2, 28),
    "1.30": dt.date(2025, 6, 28), "1.31": dt.date(2025, 10, 28), "1.32": dt.date(2026, 2, 28),
    "1.33": dt.date(2026, 6, 28), "1.34": dt.date(2026, 10, 27), "1.35": dt.date(2027, 2, 28),
}  # fmt: skip
OLDEST_IN_TABLE = (1, 24)
NEWEST_IN_TABLE = (1, 35)
SOON = dt.timedelta(days=60)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")
KUBERNETES_MODULE = "k8s.io/kubernetes"


@dataclass(frozen=True)
class KubernetesVersion:
    major: int
    minor: int
    patch: int
    reported: str  # as the API server gives it (gitVersion)

    @property
    def upstream(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def minor_release(self) -> str:
        return f"{self.major}.{self.minor}"


def parse_version(git_version: str) -> KubernetesVersion | None:
    """The upstream version in a ``/version`` gitVersion, None if there is none."""
    match = _VERSION.match(git_version.strip())
    if not match:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return KubernetesVersion(major, minor, patch, git_version.strip()[:100])


def _finding(
    rule_id: str, status: Status, cluster: Resource, evidence: str, remediation: str = ""
) -> Finding:
    return Finding(rule=catalog(CATALOG)[rule_id], status=status, resource=cluster,
                   evidence=evidence, remediation=remediation)  # fmt: skip


def end_of_life(version: KubernetesVersion, cluster: Resource, today: dt.date) -> Finding:
    """Fail past the minor release's end of patch support; warn within 60 days of it."""
    release = (version.major, version.minor)
    if release < OLDEST_IN_TABLE:
        status, when = Status.FAIL, "out of support since before 2023-07-28"
    elif release > NEWEST_IN_TABLE:
        status, when = Status.PASS, "newer than Seawall's release table (to 1.35)"
    else:
        ends = END_OF_LIFE[version.minor_release]
        if today > ends:
            status, when = Status.FAIL, f"out of support since {ends.isoformat()}"
        elif today > ends - SOON:
            status, when = Status.WARN, f"out of support on {ends.isoformat()}"
        else:
            status, when = Status.PASS, f"supported until {ends.isoformat()}"
    evidence = f"Kubernetes {version.reported}: {version.minor_release} is {when}"
    return _finding(END_OF_LIFE_RULE, status, cluster, evidence)


def vulnerabilities(
    version: KubernetesVersion, cluster: Resource, advisories: AdvisorySource
) -> Finding:
    """Fail when advisories for ``k8s.io/kubernetes`` affect the upstream version: the
    evidence lists them with their fixes, the remediation names the version fixing all."""
    package = Package(ecosystem=Ecosystem.GOLANG, name=KUBERNETES_MODULE,
                      version=f"v{version.upstream}", path="")  # fmt: skip
    query = Query("Go", ("",), KUBERNETES_MODULE, package.version)
    found = Matcher(advisories).match_package(package, query)
    shown = f"Kubernetes {version.reported}"
    if not found:
        return _finding(VULNERABLE_RULE, Status.PASS, cluster,
                        f"{shown}: no advisory for {KUBERNETES_MODULE} affects it")  # fmt: skip
    found.sort(key=lambda v: (not v.fixed_version, -int(v.severity), v.advisory.id))
    listed = "; ".join(_described(v) for v in found[:10])
    more = f"; and {len(found) - 10} more" if len(found) > 10 else ""
    evidence = f"{shown}: {len(found)} advisories: {listed}{more}"
    fixes = [v.fixed_version.lstrip("v") for v in found if v.fixed_version]
    if not fixes:  # no release fixes them: upgrading does not help, mitigating does
        mitigate = "No Kubernetes release fixes these: apply each advisory's mitigation."
        return _finding(VULNERABLE_RULE, Status.WARN, cluster, evidence, mitigate)
    target = max(fixes, key=_numeric)
    remediation = (
        f"Upgrade the control plane and the nodes to {target} or later: the first release "
        "with every fix listed (a supported minor release's latest patch also has them). On "
        "a managed cluster, read the provider's bulletin: it may have backported the fixes."
    )
    return _finding(VULNERABLE_RULE, Status.FAIL, cluster, evidence, remediation)


def _described(vulnerability: Vulnerability) -> str:
    severity = vulnerability.severity.name.lower()
    known = "" if severity == "unknown" else f"{severity}, "
    fix = f"fixed in {vulnerability.fixed_version}" if vulnerability.fixed_version else "no fix"
    return f"{vulnerability.advisory.id} ({known}{fix})"


def _numeric(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def version_findings(
    git_version: str,
    cluster: Resource,
    *,
    today: dt.date,
    advisories: AdvisorySource | None,
    no_advisories: str = "",
) -> list[Finding]:
    """Both checks on the version the API server reports; without it, nothing. Without an
    advisory database, the vulnerability check is a warning saying why (``no_advisories``)."""
    version = parse_version(git_version)
    if version is None:
        return []
    findings = [end_of_life(version, cluster, today)]
    if advisories is not None:
        findings.append(vulnerabilities(version, cluster, advisories))
    else:
        why = no_advisories or "no advisory database"
        evidence = f"Kubernetes {version.reported}: not matched ({why})"
        findings.append(_finding(VULNERABLE_RULE, Status.WARN, cluster, evidence))
    return findings


def cluster_version_findings(
    git_version: str, cluster_name: str, *, today: dt.date | None = None
) -> list[Finding]:
    """:func:`version_findings` for a cluster scan: the cluster as the resource, matched
    against the local advisory database when there is one."""
    from seawall.errors import SeawallError
    from seawall.vulndb.store import AdvisoryStore

    cluster = Resource(kind="Cluster", name=cluster_name)
    try:
        store = AdvisoryStore.open()
    except SeawallError as exc:
        return version_findings(git_version, cluster, today=today or dt.date.today(),
                                advisories=None, no_advisories=exc.message)  # fmt: skip
    try:
        return version_findings(git_version, cluster, today=today or dt.date.today(),
                                advisories=store)  # fmt: skip
    finally:
        store.close()
