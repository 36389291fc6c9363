"""The cluster's Kubernetes version against its end of life and against the Go vulnerability
database's records for k8s.io/kubernetes (all 45 of them, tests/fixtures/policy/
kubernetes-advisories), through the real advisory store; and end to end, a live cluster scan of the
recorded API server, which answers /version as the API server does."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seawall.model import Resource
from seawall.policy.kubeversion import parse_version, version_findings
from seawall.vulndb.importer import import_paths
from seawall.vulndb.store import AdvisoryStore
from tests.policy.apiserver import recorded_api

ADVISORIES = Path(__file__).parents[1] / "fixtures" / "policy" / "kubernetes-advisories"
CLUSTER = Resource(kind="Cluster", name="shop")
TODAY = dt.date(2026, 12, 6)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "advisories.db"
    import_paths(path, [ADVISORIES])
    return path


@pytest.fixture()
def store(database: Path):
    opened = AdvisoryStore.open(database)
    yield opened
    opened.close()


def verdicts(version: str, store: AdvisoryStore | None, today: dt.date = TODAY) -> dict:
    found = version_findings(version, CLUSTER, today=today, advisories=store)
    return {f.rule.id: (f.status.value, f.evidence, f.remediation) for f in found}


@pytest.mark.parametrize(
    ("reported", "upstream"),
    [("v1.29.4", "1.29.4"), ("v1.30.2+k3s1", "1.30.2"), ("v1.28.9-gke.1000", "1.28.9"),
     ("v1.24.17-eks-5e0fdde", "1.24.17"), ("1.31.0", "1.31.0")],
)  # fmt: skip
def test_distributions_versions_are_read_as_upstream(reported: str, upstream: str) -> None:
    version = parse_version(reported)
    assert version is not None and version.upstream == upstream


@pytest.mark.parametrize("reported", ["", "unknown", "vX.Y", "-1.2.3"])
def test_no_version_no_findings(reported: str) -> None:
    assert parse_version(reported) is None
    assert version_findings(reported, CLUSTER, today=TODAY, advisories=None) == []


@pytest.mark.parametrize(
    ("reported", "today", "status", "words"),
    [
        ("v1.29.4", TODAY, "fail", "1.29 is out of support since 2025-02-28"),
        ("v1.20.15", TODAY, "fail", "out of support since before 2023-07-28"),
        ("v1.34.2", TODAY, "fail", "1.34 is out of support since 2026-10-27"),
        ("v1.35.0", TODAY, "pass", "1.35 is supported until 2027-02-28"),
        ("v1.35.0", dt.date(2027, 1, 15), "warn", "1.35 is out of support on 2027-02-28"),
        ("v1.36.1", TODAY, "pass", "newer than Seawall's release table"),
    ],
)
def test_end_of_life(reported: str, today: dt.date, status: str, words: str) -> None:
    got, evidence, _ = verdicts(reported, None, today)["k8s-version-end-of-life"]
    assert got == status and words in evidence


def test_a_vulnerable_version_lists_its_advisories_and_the_release_fixing_them(store) -> None:
    status, evidence, remediation = verdicts("v1.29.4", store)["k8s-version-vulnerable"]
    assert status == "fail"
    assert evidence.startswith("Kubernetes v1.29.4: 8 advisories: CVE-2024-10220 (fixed in 1.29.7)")
    assert "CVE-2024-7598 (no fix)" in evidence  # listed after those with a fix
    assert remediation.startswith("Upgrade the control plane and the nodes to 1.32.10 or later")


def test_an_old_release_has_the_advisories_of_its_time(store) -> None:
    status, evidence, _ = verdicts("v1.12.3", store)["k8s-version-vulnerable"]
    assert status == "fail" and "31 advisories" in evidence
    assert "CVE-2019-11243 (fixed in 1.12.5)" in evidence  # GO-2025-3645's alias
    assert "; and 21 more" in evidence


def test_only_unfixable_advisories_call_for_mitigation_not_an_upgrade(store) -> None:
    status, evidence, remediation = verdicts("v1.35.0", store)["k8s-version-vulnerable"]
    assert status == "warn"
    assert evidence == ("Kubernetes v1.35.0: 2 advisories: CVE-2024-7598 (no fix); "
                        "CVE-2025-1767 (no fix)")  # fmt: skip
    assert "mitigation" in remediation


def test_without_a_database_the_check_says_why() -> None:
    status, evidence, _ = verdicts("v1.29.4", None)["k8s-version-vulnerable"]
    assert status == "warn" and evidence.endswith("not matched (no advisory database)")


def test_a_live_scan_reports_the_clusters_version(tmp_path: Path, database: Path) -> None:
    with recorded_api(tmp_path) as (kubeconfig, requests):
        done = subprocess.run(
            [sys.executable, "-m", "seawall", "k8s", "scan", "--kubeconfig", str(kubeconfig),
             "--context", "recorded", "-f", "json"],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "SEAWALL_DB": str(database)},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "/version" in requests
    results = {r["rule"]: r for r in json.loads(done.stdout)["results"]
               if r["rule"].startswith("k8s/k8s-version-")}  # fmt: skip
    assert results["k8s/k8s-version-end-of-life"]["status"] == "fail"
    vulnerable = results["k8s/k8s-version-vulnerable"]
    assert vulnerable["status"] == "fail" and vulnerable["resource"]["kind"] == "Cluster"
    assert "CVE-2024-10220" in vulnerable["evidence"]
