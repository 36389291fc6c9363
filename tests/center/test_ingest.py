"""Ingest of every envelope kind into a real store, on SQLite and PostgreSQL: assets and
their relations, findings followed by fingerprint (new, resolved, reopened), idempotency,
health, and what the API answers afterwards."""

from __future__ import annotations

import msgspec
import pytest
from fastapi.testclient import TestClient

from seawall.contract import encode
from seawall.contract.envelope import Envelope
from tests.center.conftest import Center, both_backends
from tests.support import envelopes
from tests.support.envelopes import DEMO_CONFIG, DEMO_REFERENCE

JSON = {"Content-Type": "application/json"}


def post(client: TestClient, envelope: Envelope, key: str | None = None) -> dict:
    headers = {**JSON, **({"Idempotency-Key": key} if key else {})}
    response = client.post("/api/v1/ingest", content=encode(envelope), headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


@both_backends
def test_an_image_scan_is_stored_and_followed_across_rescans(center: Center, advisory_db) -> None:
    client = center.client("contributor")
    scan = envelopes.demo_scan(advisory_db)
    receipt = post(client, scan)
    assert receipt["kind"] == "image-scan" and receipt["new"] == 4
    images = client.get("/api/v1/images").json()
    assert images["total"] == 1
    (image,) = images["items"]
    assert image["digest"] == DEMO_CONFIG
    assert image["references"] == ["docker.io/seawall/demo:1.0"]
    assert image["healthy"] is False  # a critical and a high finding, threshold high
    assert image["counts"] == {"critical": 1, "high": 1, "medium": 1, "low": 1, "unknown": 0,
                               "total": 4}  # fmt: skip
    # the lookup CI pipelines use, by config digest
    detail = client.get(f"/api/v1/images/{DEMO_CONFIG}").json()
    assert [layer["index"] for layer in detail["layers"]] == [0, 1, 2]
    assert detail["database"] == scan.database.built_at  # type: ignore[union-attr]
    findings = client.get("/api/v1/findings", params={"sort": "severity"}).json()
    assert [f["severity"] for f in findings["items"]] == ["critical", "high", "medium", "low"]
    bash = findings["items"][0]
    assert (bash["package"], bash["fixed_version"]) == ("bash", "5.2.15-2+deb12u1")
    assert bash["details"]["layer_created_by"] == "ADD debian-12-rootfs.tar /"
    assert bash["remediation"] == "apt-get install --only-upgrade bash"
    first_seen = bash["first_seen"]

    # bash fixed: its finding is resolved, the rest stay open, first_seen unchanged
    fixed = envelopes.without(scan, ["osv/CVE-2026-0002"])
    receipt = post(client, fixed)
    assert (receipt["new"], receipt["resolved"], receipt["reopened"]) == (0, 1, 0)
    resolved = client.get("/api/v1/findings", params={"state": "resolved"}).json()["items"]
    assert [f["package"] for f in resolved] == ["bash"] and resolved[0]["resolved_at"]
    image = client.get(f"/api/v1/images/{DEMO_CONFIG}").json()
    assert image["counts"]["critical"] == 0 and image["healthy"] is False  # the high is left

    # it comes back: the same finding reopens
    receipt = post(client, scan)
    assert (receipt["new"], receipt["resolved"], receipt["reopened"]) == (0, 0, 1)
    again = client.get("/api/v1/findings", params={"package": "bash"}).json()["items"][0]
    assert again["id"] == bash["id"] and again["first_seen"] == first_seen
    assert again["times_reopened"] == 1 and again["state"] == "open"


@both_backends
def test_the_same_upload_twice_is_stored_once(center: Center, advisory_db) -> None:
    client = center.client("contributor")
    scan = envelopes.demo_scan(advisory_db)
    first = post(client, scan, key="a" * 64)
    second = post(client, scan, key="a" * 64)
    assert second == {**first, "duplicate": True, "new": 0}
    assert client.get("/api/v1/scans").json()["total"] == 1


@both_backends
def test_a_host_its_containers_and_the_images_they_run(center: Center, advisory_db) -> None:
    client = center.client("contributor")
    post(client, envelopes.demo_scan(advisory_db))
    post(client, envelopes.host_audit())
    hosts = client.get("/api/v1/hosts").json()["items"]
    assert [h["name"] for h in hosts] == ["build-01"]
    host = client.get(f"/api/v1/hosts/{hosts[0]['id']}").json()
    assert host["docker_version"] == "26.1.5" and host["containers"] == 1
    (web,) = host["containers_list"]
    assert (web["name"], web["image_id"], web["healthy"]) == ("web", DEMO_CONFIG, False)
    # the image now runs somewhere, and says where
    image = client.get(f"/api/v1/images/{DEMO_CONFIG}").json()
    assert image["running"] is True
    assert [(p["type"], p["name"], p["where"]) for p in image["runs_on"]] == [
        ("container", "web", "build-01")
    ]
    # host findings: the host's own and its containers', by source
    findings = client.get("/api/v1/findings", params={"source": hosts[0]["id"]}).json()
    assert {(f["rule"], f["resource"]["name"]) for f in findings["items"]} == {
        ("cis-docker-1.6/2.2", "build-01"),
        ("cis-docker-1.6/5.5", "web"),
        ("cis-docker-1.6/5.11", "web"),
    }
    passing = client.get("/api/v1/findings", params={"state": "passing", "kind": "configuration"})
    assert {f["rule"] for f in passing.json()["items"]} == {
        "cis-docker-1.6/2.6",
        "cis-docker-1.6/4.1",
    }


@both_backends
def test_a_container_that_goes_away_leaves_the_inventory(center: Center, advisory_db) -> None:
    client = center.client("contributor")
    post(client, envelopes.demo_scan(advisory_db))
    post(client, envelopes.host_audit())
    post(client, envelopes.host_audit(containers=()))
    host = client.get("/api/v1/hosts").json()["items"][0]
    assert client.get(f"/api/v1/hosts/{host['id']}").json()["containers_list"] == []
    image = client.get(f"/api/v1/images/{DEMO_CONFIG}").json()
    assert image["running"] is False and image["runs_on"] == []
    # the privileged container's finding is resolved with it
    open_ = client.get("/api/v1/findings", params={"rule": "cis-docker-1.6/5.5"}).json()
    assert open_["total"] == 0


@both_backends
def test_a_cluster_its_workloads_and_images(center: Center, advisory_db) -> None:
    client = center.client("contributor")
    receipt = post(client, envelopes.k8s_scan("shop"))
    assert receipt["kind"] == "k8s-scan" and receipt["new"] > 0
    clusters = client.get("/api/v1/clusters").json()["items"]
    assert [c["name"] for c in clusters] == ["shop"]
    assert clusters[0]["workloads"] > 0 and clusters[0]["namespaces"] >= 1
    workloads = client.get("/api/v1/workloads", params={"cluster": clusters[0]["id"]}).json()
    assert workloads["total"] == clusters[0]["workloads"]
    assert all(w["cluster"] == "shop" for w in workloads["items"])
    policy = client.get("/api/v1/findings", params={"kind": "policy"}).json()
    assert policy["total"] > 0 and all(f["rule"].startswith("k8s/") for f in policy["items"])


@both_backends
def test_a_workload_running_a_vulnerable_image(center: Center, advisory_db) -> None:
    client = center.client("contributor")
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: demo, namespace: shop}\n"
        f"spec:\n  containers:\n  - name: app\n    image: {DEMO_REFERENCE}\n"
    )
    post(client, envelopes.k8s_scan("prod", manifests=pod))  # before the image is known
    rec = client.get("/api/v1/recommendations/running-vulnerable-images").json()
    assert rec["unhealthy"] == 0
    post(client, envelopes.demo_scan(advisory_db))  # the image arrives: the link resolves
    rec = client.get("/api/v1/recommendations/running-vulnerable-images").json()
    assert rec["unhealthy"] == 1
    resources = client.get("/api/v1/recommendations/running-vulnerable-images/resources").json()[
        "items"
    ]
    assert [(r["name"], r["where"]) for r in resources] == [("demo", "prod / shop")]
    image = client.get(f"/api/v1/images/{DEMO_CONFIG}").json()
    assert [(p["type"], p["where"]) for p in image["runs_on"]] == [("workload", "prod / shop")]


@both_backends
def test_alerts_are_stored_once_and_updated(center: Center) -> None:
    client = center.client("contributor")
    batch = envelopes.alerts("minikube")
    post(client, batch)
    listed = client.get("/api/v1/alerts").json()
    assert listed["total"] == len(batch.alerts) == 8
    assert {a["status"] for a in listed["items"]} == {"new"}
    exec_alert = next(a for a in listed["items"] if a["rule"] == "runtime/k8s-exec-attach")
    assert exec_alert["tactic"] and exec_alert["evidence"]
    # the watcher sends the same alert again with its final count: updated, not doubled
    again = msgspec.structs.replace(
        batch,
        alerts=tuple(msgspec.structs.replace(a, count=a.count + 4) for a in batch.alerts),
    )
    post(client, again)
    listed = client.get("/api/v1/alerts").json()
    assert listed["total"] == 8
    assert next(a for a in listed["items"] if a["id"] == exec_alert["id"])["count"] == (
        exec_alert["count"] + 4
    )


def test_an_uploaded_inventory_is_matched_in_the_background(make_center, advisory_db) -> None:
    center = make_center(background=True)
    client = center.client("contributor")
    receipt = post(client, envelopes.demo_sbom())
    assert receipt["kind"] == "inventory"
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        image = client.get(f"/api/v1/images/{DEMO_CONFIG}").json()
        if image["last_scanned"]:
            break
        time.sleep(0.1)
    assert image["counts"]["total"] == 4 and image["healthy"] is False
    status = client.get("/api/v1/status").json()
    assert status["jobs"]["jobs_run"] >= 1
    assert status["advisory_database"]["present"] is True


@both_backends
def test_findings_search(center: Center, advisory_db) -> None:
    """``q`` finds a rule by part of its id or title or by an alias, a package or a resource
    by the start of its name; it is plain text (no wildcards)."""
    client = center.client("contributor")
    post(client, envelopes.demo_scan(advisory_db))
    post(client, envelopes.host_audit())

    def found(q: str) -> set[str]:
        items = client.get("/api/v1/findings", params={"q": q, "limit": 100}).json()["items"]
        return {f"{f['rule']}@{f['package'] or f['resource']['name']}" for f in items}

    assert found("2026-0002") == {"osv/CVE-2026-0002@bash"}  # part of the rule id
    assert found("command injection") == {"osv/CVE-2026-0002@bash"}  # part of the title
    assert found("GHSA-0000-demo-ms00") == {"osv/CVE-2026-0001@ms"}  # an alias
    assert found("req") == {"osv/CVE-2024-47081@requests"}  # a package's name starts so
    assert found("web") == {"cis-docker-1.6/5.5@web", "cis-docker-1.6/5.11@web"}  # a resource
    assert found("%") == found("_") == set()  # no wildcards


@both_backends
def test_a_rematch_that_changes_nothing_takes_the_short_path(center: Center, advisory_db) -> None:
    import datetime as dt

    from sqlalchemy import select

    from seawall.center.ingest import unchanged_rematches
    from seawall.center.store.models import Asset

    client = center.client("contributor")
    scan = envelopes.demo_scan(advisory_db)
    post(client, scan)
    sessions = center.app.state.center.sessions
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    with sessions() as session, session.begin():
        image = session.scalars(select(Asset).where(Asset.type == "image")).one()
        assert unchanged_rematches(session, {image.id: scan}, later) == {image.id}
    with sessions() as session:
        assert session.get(Asset, image.id).last_scanned == later  # type: ignore[union-attr]
    # one finding fewer, or one with another fixed version: the full ingest is needed
    fewer = envelopes.without(scan, [scan.results[0].rule])
    fixed = msgspec.structs.replace(
        scan, results=(msgspec.structs.replace(scan.results[0], fixed_version="9.9"),
                       *scan.results[1:]),
    )  # fmt: skip
    with sessions() as session, session.begin():
        assert unchanged_rematches(session, {image.id: fewer}, later) == set()
        assert unchanged_rematches(session, {image.id: fixed}, later) == set()


@both_backends
def test_a_rescan_moves_last_seen_and_rewrites_only_what_changed(
    center: Center, advisory_db
) -> None:
    client = center.client("contributor")
    scan = envelopes.demo_scan(advisory_db)
    post(client, scan)
    before = {f["rule"]: f for f in client.get("/api/v1/findings").json()["items"]}
    first = scan.results[0]
    changed = msgspec.structs.replace(
        scan,
        results=(msgspec.structs.replace(first, fixed_version="9.9", message="now fixed in 9.9"),
                 *scan.results[1:]),
    )  # fmt: skip
    receipt = post(client, changed)
    assert (receipt["new"], receipt["resolved"], receipt["reopened"]) == (0, 0, 0)
    after = {f["rule"]: f for f in client.get("/api/v1/findings").json()["items"]}
    assert after.keys() == before.keys()
    for rule, finding in after.items():
        assert finding["last_seen"] > before[rule]["last_seen"], rule
        assert finding["first_seen"] == before[rule]["first_seen"]
        if rule == first.rule:
            assert finding["fixed_version"] == "9.9" and finding["message"] == "now fixed in 9.9"
        else:
            assert {k: v for k, v in finding.items() if k != "last_seen"} == {
                k: v for k, v in before[rule].items() if k != "last_seen"
            }


MACHINE_ID = "5f1c3a0e9b2d4c6f8a7e1d3b5c9f0a2e"


@both_backends
@pytest.mark.parametrize("node_first", [True, False], ids=["node-first", "cluster-first"])
def test_a_node_audit_lands_on_its_cluster(center: Center, node_first: bool) -> None:
    """A node of cluster "shop" is stored under the cluster of that name: made by name
    when the node comes first (a later scan of the cluster, by its UID, adopts it), found
    by name when the cluster was scanned first."""
    client = center.client("contributor")
    node, scan = envelopes.node_audit(cluster="shop"), envelopes.k8s_scan("shop", uid="uid-1")
    for envelope in (node, scan) if node_first else (scan, node):
        receipt = post(client, envelope)
    (cluster,) = client.get("/api/v1/clusters").json()["items"]
    assert (cluster["name"], cluster["key"], cluster["nodes"]) == ("shop", "uid-1", 1)
    assert cluster["workloads"] > 0  # the scan's objects are on that same asset
    (listed,) = client.get("/api/v1/nodes", params={"cluster": cluster["id"]}).json()["items"]
    assert (listed["name"], listed["key"], listed["cluster"]) == ("cp1", MACHINE_ID, "shop")
    assert listed["cluster_id"] == cluster["id"]
    assert (listed["role"], listed["layout"], listed["benchmark"]) == (
        "control-plane", "kubeadm", "cis-1.12",
    )  # fmt: skip
    assert listed["healthy"] is False  # 4.2.1 (high) failed; the threshold is high
    assert listed["counts"] == {"critical": 0, "high": 1, "medium": 0, "low": 1, "unknown": 0,
                                "total": 2}  # fmt: skip
    detail = client.get(f"/api/v1/nodes/{listed['id']}").json()
    assert detail["api_server"] == "https://192.168.49.2:6443"
    assert detail["components"]["kubelet"] == "kubelet process 812"
    assert detail["score_percent"] == listed["score_percent"] == round(100 * 2 / 4, 1)
    if node_first:
        assert receipt["kind"] == "k8s-scan"
    else:
        assert (receipt["kind"], receipt["asset"], receipt["new"]) == ("node-audit", "cp1", 2)


@both_backends
def test_node_findings_close_and_reopen_across_audits(center: Center) -> None:
    client = center.client("contributor")
    receipt = post(client, envelopes.node_audit(failing=("1.2.15", "4.2.1")))
    assert (receipt["new"], receipt["resolved"], receipt["reopened"]) == (2, 0, 0)
    node = client.get("/api/v1/nodes").json()["items"][0]
    failing = client.get("/api/v1/findings", params={"source": node["id"]}).json()["items"]
    assert {(f["rule"], f["asset"]["type"]) for f in failing} == {
        ("cis-k8s-1.12/1.2.15", "node"), ("cis-k8s-1.12/4.2.1", "node"),
    }  # fmt: skip
    assert {f["kind"] for f in failing} == {"configuration"}
    # the open total of a kind is the sum of its sources' counters: hosts' and nodes'
    assert client.get("/api/v1/findings", params={"kind": "configuration"}).json()["total"] == 2
    kubelet = next(f for f in failing if f["rule"] == "cis-k8s-1.12/4.2.1")
    assert kubelet["evidence"] == "--4.2.1 (want better)"
    # every result is kept: passes and not-applicable checks too
    every = client.get("/api/v1/findings", params={"source": node["id"], "state": "all"})
    assert {f["status"] for f in every.json()["items"]} == {"fail", "pass", "not_applicable"}

    # the kubelet is fixed: its finding is resolved, the node is healthy (1.2.15 is low)
    receipt = post(client, envelopes.node_audit(failing=("1.2.15",)))
    assert (receipt["new"], receipt["resolved"], receipt["reopened"]) == (0, 1, 0)
    resolved = client.get("/api/v1/findings", params={"state": "resolved"}).json()["items"]
    assert [f["id"] for f in resolved] == [kubelet["id"]]
    node = client.get(f"/api/v1/nodes/{node['id']}").json()
    assert node["healthy"] is True and node["counts"]["total"] == 1

    # it comes back: the same finding reopens
    receipt = post(client, envelopes.node_audit(failing=("1.2.15", "4.2.1")))
    assert (receipt["new"], receipt["resolved"], receipt["reopened"]) == (0, 0, 1)
    again = client.get("/api/v1/findings", params={"rule": "cis-k8s-1.12/4.2.1"}).json()
    assert [(f["id"], f["times_reopened"]) for f in again["items"]] == [(kubelet["id"], 1)]
    assert client.get("/api/v1/nodes").json()["total"] == 1  # the same node throughout


@both_backends
def test_a_node_without_a_cluster_stands_alone(center: Center) -> None:
    client = center.client("contributor")
    post(client, envelopes.node_audit(cluster="shop"))
    post(client, envelopes.node_audit(cluster=""))  # the same node, taken out of "shop"
    (node,) = client.get("/api/v1/nodes").json()["items"]
    assert (node["cluster"], node["cluster_id"]) == ("", None)
    (cluster,) = client.get("/api/v1/clusters").json()["items"]
    assert cluster["nodes"] == 0
    # a node known by name only is matched to the node of that name
    by_name = envelopes.node_audit(name="worker-7", machine_id="", cluster="shop")
    assert by_name.asset.id == "name:worker-7"
    post(client, by_name)
    post(client, by_name)
    names = [
        n["name"] for n in client.get("/api/v1/nodes", params={"sort": "name"}).json()["items"]
    ]
    assert names == ["cp1", "worker-7"]


@both_backends
def test_who_may_upload_and_see_node_audits(center: Center) -> None:
    """A reader sees nodes but cannot upload one; a contributor scoped to a cluster uploads
    and sees that cluster's nodes only, and cannot put a node in another cluster."""
    reader = center.client("reader")
    refused = reader.post("/api/v1/ingest", content=encode(envelopes.node_audit()), headers=JSON)
    assert refused.status_code == 403
    assert reader.get("/api/v1/nodes").json()["total"] == 0
    post(center.client("contributor"), envelopes.node_audit(cluster="shop"))
    (node,) = reader.get("/api/v1/nodes").json()["items"]
    assert reader.get(f"/api/v1/nodes/{node['id']}").status_code == 200

    shop = center.client("contributor", scope=["cluster:shop"])
    post(shop, envelopes.node_audit(name="w1", machine_id="1" * 32, cluster="shop"))
    assert {n["name"] for n in shop.get("/api/v1/nodes").json()["items"]} == {"cp1", "w1"}
    elsewhere = envelopes.node_audit(name="w2", machine_id="2" * 32, cluster="prod")
    answer = shop.post("/api/v1/ingest", content=encode(elsewhere), headers=JSON)
    assert answer.status_code == 403, answer.text
    alone = envelopes.node_audit(name="w3", machine_id="3" * 32, cluster="")
    assert shop.post("/api/v1/ingest", content=encode(alone), headers=JSON).status_code == 403
    other = center.client("reader", scope=["cluster:prod"])
    assert other.get("/api/v1/nodes").json()["total"] == 0
    assert other.get(f"/api/v1/nodes/{node['id']}").status_code == 404
    owner = center.client("owner")
    assert {c["name"] for c in owner.get("/api/v1/clusters").json()["items"]} == {"shop"}
