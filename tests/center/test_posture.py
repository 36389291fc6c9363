"""Recommendations, the secure score, exceptions and the health threshold, as the API shows
them after real ingests; re-matching when the advisory database changes."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from fastapi.testclient import TestClient

from tests.center.conftest import Center, both_backends
from tests.center.test_ingest import post
from tests.support import envelopes
from tests.support.advisorydb import DEMO_RECORDS, demo_database
from tests.support.envelopes import DEMO_CONFIG


def recommendations(client: TestClient) -> dict[str, tuple[int, int]]:
    return {
        r["id"]: (r["unhealthy"], r["healthy"])
        for r in client.get("/api/v1/recommendations").json()
    }


@both_backends
def test_recommendations_and_score_follow_the_fleet(center: Center, advisory_db) -> None:
    client = center.client("contributor")
    assert client.get("/api/v1/score").json()["max_score"] == 0  # nothing assessed yet
    post(client, envelopes.demo_scan(advisory_db))
    post(client, envelopes.host_audit(
        containers=(("web", "seawall/demo:1.0", DEMO_CONFIG, True),
                    ("cache", "redis:7", "sha256:" + "7" * 64, True)),
        privileged=("web",),
    ))  # fmt: skip
    recs = recommendations(client)
    assert recs["image-vulnerabilities"] == (1, 0)  # the demo image; redis never scanned
    assert recs["host-configuration"] == (1, 0)  # 5.5 (high) failed on its container
    assert recs["privileged-containers"] == (1, 1)  # web privileged, cache not
    assert recs["resource-limits"] == (2, 0)  # 5.11 fails on both
    assert recs["root-containers"] == (0, 2)  # 4.1 passes on both
    assert recs["running-vulnerable-images"] == (1, 0)  # web runs the demo image
    unhealthy = client.get("/api/v1/recommendations/privileged-containers/resources").json()[
        "items"
    ]
    assert [(r["name"], r["where"], r["detail"]) for r in unhealthy] == [
        ("web", "build-01", "Privileged=true")
    ]
    score = client.get("/api/v1/score").json()
    controls = {c["id"]: c for c in score["controls"]}
    # manage access: web unhealthy (privileged), cache healthy -> 4 x 1/2
    assert controls["manage-access-and-permissions"]["score"] == 2.0
    assert controls["remediate-vulnerabilities"]["score"] == 0.0
    assert score["max_score"] == 14
    assert score["percent"] == round(100 * score["score"] / 14, 1)
    assert score["history"][-1]["day"] == dt.datetime.now(dt.UTC).date().isoformat()

    # the privileged container is fixed: the score moves at once
    post(client, envelopes.host_audit(
        containers=(("web", "seawall/demo:1.0", DEMO_CONFIG, True),
                    ("cache", "redis:7", "sha256:" + "7" * 64, True)),
        privileged=(),
    ))  # fmt: skip
    after = {c["id"]: c for c in client.get("/api/v1/score").json()["controls"]}
    assert after["manage-access-and-permissions"]["score"] == 4.0


@both_backends
def test_an_image_below_the_threshold_is_healthy(center: Center, advisory_db) -> None:
    owner = center.client("owner")
    scan = envelopes.demo_scan(advisory_db)
    post(owner, envelopes.without(scan, ["osv/CVE-2026-0002", "osv/CVE-2026-0001"]))
    image = owner.get(f"/api/v1/images/{DEMO_CONFIG}").json()
    assert image["healthy"] is True  # a medium and a low only; the threshold is high
    assert recommendations(owner)["image-vulnerabilities"] == (0, 1)
    assert owner.get("/api/v1/images", params={"healthy": "true"}).json()["total"] == 1
    # a stricter threshold: the same image becomes unhealthy, the score follows
    changed = owner.put("/api/v1/settings", json={"health_threshold": "low"})
    assert changed.status_code == 200, changed.text
    assert owner.get(f"/api/v1/images/{DEMO_CONFIG}").json()["healthy"] is False
    assert recommendations(owner)["image-vulnerabilities"] == (1, 0)
    assert (
        center.client("reader")
        .put("/api/v1/settings", json={"health_threshold": "high"})
        .status_code
        == 403
    )


@both_backends
def test_node_configuration_counts_in_the_secure_score(center: Center) -> None:
    """A Kubernetes node is unhealthy on k8s-node-configuration while a CIS check at or
    above the threshold fails on it, healthy once none does; the score follows at once."""
    client = center.client("contributor")
    post(client, envelopes.node_audit(cluster="shop"))  # 4.2.1 (high) and 1.2.15 (low) fail
    rec = client.get("/api/v1/recommendations/k8s-node-configuration").json()
    assert (rec["severity"], rec["control"], rec["unhealthy"], rec["healthy"]) == (
        "high", "remediate-security-configurations", 1, 0,
    )  # fmt: skip
    assert rec["title"] == "Kubernetes nodes should be configured according to the CIS benchmark"
    resources = client.get("/api/v1/recommendations/k8s-node-configuration/resources").json()
    assert [(r["type"], r["name"], r["where"], r["detail"]) for r in resources["items"]] == [
        ("node", "cp1", "shop", "1 high, 1 low")
    ]
    score = client.get("/api/v1/score").json()
    controls = {c["id"]: c for c in score["controls"]}
    configuration = controls["remediate-security-configurations"]
    assert (configuration["healthy"], configuration["unhealthy"]) == (0, 1)
    assert (score["score"], score["max_score"], score["percent"]) == (0.0, 4, 0.0)

    # the kubelet is fixed: the node is healthy and the control earns its points
    post(client, envelopes.node_audit(cluster="shop", failing=("1.2.15",)))
    assert recommendations(client)["k8s-node-configuration"] == (0, 1)
    score = client.get("/api/v1/score").json()
    assert (score["score"], score["max_score"], score["percent"]) == (4.0, 4, 100.0)
    # a second node with a failing check: half the control
    post(client, envelopes.node_audit(name="w1", machine_id="1" * 32, failing=("4.2.1",)))
    assert recommendations(client)["k8s-node-configuration"] == (1, 1)
    assert client.get("/api/v1/score").json()["percent"] == 50.0
    # a scope sees its cluster's nodes in the score, and nothing of the others
    post(client, envelopes.node_audit(name="p1", machine_id="2" * 32, cluster="prod"))
    prod = center.client("reader", scope=["cluster:prod"])
    assert recommendations(prod)["k8s-node-configuration"] == (1, 0)


@both_backends
def test_exceptions_suppress_survive_rescans_and_lift(center: Center, advisory_db) -> None:
    client = center.client("contributor")
    scan = envelopes.demo_scan(advisory_db)
    post(client, scan)
    for rule in ("CVE-2026-0002", "GHSA-0000-demo-ms00"):  # by CVE id and by an alias
        made = client.post("/api/v1/exceptions", json={
            "rule": rule, "scope_type": "image", "scope_value": DEMO_CONFIG,
            "reason": "not reachable: no shell is started", "expires_at": None,
        })  # fmt: skip
        assert made.status_code == 201, made.text
        assert made.json()["findings"] == 1
    image = client.get(f"/api/v1/images/{DEMO_CONFIG}").json()
    assert image["counts"]["critical"] == image["counts"]["high"] == 0
    assert image["healthy"] is True
    suppressed = client.get("/api/v1/findings", params={"state": "suppressed"}).json()
    assert {f["package"] for f in suppressed["items"]} == {"bash", "ms"}
    # a rescan keeps them suppressed
    post(client, scan)
    assert client.get(f"/api/v1/images/{DEMO_CONFIG}").json()["healthy"] is True
    listed = client.get("/api/v1/exceptions").json()
    assert [e["findings"] for e in listed] == [1, 1]
    assert all(e["author"].startswith("token:contributor") for e in listed)
    # lifted: they count again
    assert client.delete(f"/api/v1/exceptions/{listed[0]['id']}").status_code == 204
    assert client.get(f"/api/v1/images/{DEMO_CONFIG}").json()["counts"]["high"] == 1
    # the audit trail says who did what
    trail = center.client("owner").get("/api/v1/audit-log").json()["items"]
    assert [e["action"] for e in trail][:3] == [
        "exception.delete", "exception.create", "exception.create",
    ]  # fmt: skip


@both_backends
def test_exceptions_are_checked(center: Center) -> None:
    client = center.client("contributor")
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    bad = [
        {"rule": "CVE-1", "reason": "x"},  # reason too short
        {"rule": "CVE-1", "reason": "because", "expires_at": past},
        {"rule": "CVE-1", "reason": "because", "scope_type": "image"},  # no digest
        {"rule": "CVE-1", "reason": "because", "scope_type": "everywhere"},
    ]
    for body in bad:
        assert client.post("/api/v1/exceptions", json=body).status_code == 422, body
    reader = center.client("reader")
    assert reader.post("/api/v1/exceptions", json={"rule": "CVE-1", "reason": "because"}
                       ).status_code == 403  # fmt: skip


@both_backends
def test_alerts_are_acknowledged_and_dismissed_with_a_reason(center: Center) -> None:
    client = center.client("contributor")
    post(client, envelopes.alerts("minikube"))
    alert = client.get("/api/v1/alerts", params={"sort": "severity"}).json()["items"][0]
    no_reason = client.patch(f"/api/v1/alerts/{alert['id']}", json={"status": "dismissed"})
    assert no_reason.status_code == 422
    done = client.patch(f"/api/v1/alerts/{alert['id']}",
                        json={"status": "dismissed", "reason": "our own pen test"})  # fmt: skip
    assert done.status_code == 200 and done.json()["status_reason"] == "our own pen test"
    assert done.json()["status_by"].startswith("token:")
    open_ = client.get("/api/v1/alerts", params={"status": "new,acknowledged"}).json()
    assert open_["total"] == 7  # of eight
    assert (
        center.client("reader")
        .patch(f"/api/v1/alerts/{alert['id']}", json={"status": "new"})
        .status_code
        == 403
    )


def test_stored_inventories_are_rematched_when_the_database_changes(
    make_center, advisory_db, tmp_path
) -> None:
    """An advisory published after the scan reaches the image without pulling it again."""
    own_db = demo_database(tmp_path / "before", DEMO_RECORDS[:1])  # only the requests advisory
    center = make_center(background=True, advisory_db=own_db)
    client = center.client("contributor")
    post(client, envelopes.demo_sbom())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if client.get(f"/api/v1/images/{DEMO_CONFIG}").json()["counts"]["total"] == 1:
            break
        time.sleep(0.1)
    assert client.get(f"/api/v1/images/{DEMO_CONFIG}").json()["counts"]["total"] == 1
    # `seawall db import` replaces the file: the next round re-matches from the stored SBOM.
    # A database's version is its build time, to the second: let a second pass first.
    started = int(time.time())
    while int(time.time()) == started:
        time.sleep(0.05)
    demo_database(tmp_path / "before")  # all four records, same path
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if client.get(f"/api/v1/images/{DEMO_CONFIG}").json()["counts"]["total"] == 4:
            break
        time.sleep(0.1)
    image = client.get(f"/api/v1/images/{DEMO_CONFIG}").json()
    assert image["counts"]["total"] == 4 and image["healthy"] is False


@pytest.mark.parametrize("bad", ["sha256:" + "0" * 64, "sha512:" + "a" * 128])
def test_unknown_image_is_404(center: Center, bad: str) -> None:
    assert center.client("reader").get(f"/api/v1/images/{bad}").status_code == 404


@both_backends
def test_a_cluster_scan_feeds_the_version_and_control_plane_recommendations(
    center: Center,
) -> None:
    """A live scan's version checks land on the cluster, the control plane's flag checks on
    its mirror pods: each is a recommendation in the score."""
    client = center.client("contributor")
    post(client, envelopes.cluster_scan(name="prod", version="v1.29.4"))
    assert recommendations(client)["k8s-version"] == (1, 0)  # 1.29 is out of support
    # the API server and the controller manager and scheduler fail flags; etcd passes
    assert recommendations(client)["k8s-control-plane-configuration"] == (3, 1)
    resources = client.get("/api/v1/recommendations/k8s-version/resources").json()["items"]
    assert [(r["type"], r["name"]) for r in resources] == [("cluster", "prod")]
    post(client, envelopes.cluster_scan(name="prod", version="v1.35.1"))
    assert recommendations(client)["k8s-version"] == (0, 1)
