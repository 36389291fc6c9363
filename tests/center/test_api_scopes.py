"""Scopes hold everywhere: a caller limited to ``host:build-01``, ``registry:docker.io``,
``cluster:shop`` or ``namespace:shop/default`` sees only its assets in every list, count,
the score, the scans, the status and the exports; 404 on anything outside; and cannot
upload (or take over) an asset outside its scope. The world is tests/center/world.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import msgspec
import pytest

from seawall.contract import encode
from tests.center.conftest import Center, both_backends
from tests.center.world import (
    DEMO_CONFIG,
    JSON,
    OTHER_CONFIG,
    World,
    everything,
    pod,
    populate,
    snapshot,
    web_01,
)
from tests.support import envelopes

API = "/api/v1"
Item = dict


@dataclass(frozen=True)
class Expect:
    """What a scope shows: names per list, and a test of each finding / scan / resource."""

    images: set[str]
    hosts: set[str]
    clusters: set[str]
    workloads: set[tuple[str, str, str]]  # (cluster, namespace, name)
    alerts: Callable[[str], bool]  # of cluster shop's alerts, by namespace: visible?
    finding: Callable[[Item], bool]  # a finding of the owner's list: visible?
    scan: set[tuple[str, str]]  # (asset type, name)
    resource: Callable[[Item], bool]  # a recommendation resource: visible?


def _on(*where: str) -> Callable[[Item], bool]:
    return lambda a: (a["asset"]["type"], a["asset"]["name"]) in where


DEMO = "seawall/demo:1.0"
SHOP_WORKLOADS = {
    ("shop", "shop", "log-agent"),
    ("shop", "shop", "canary"),
    ("shop", "shop", "web"),
    ("shop", "shop", "report"),
    ("shop", "lab", "legacy"),
    ("shop", "default", "demo"),
}

SCOPES: dict[str, Expect] = {
    "host:build-01": Expect(
        images={DEMO_CONFIG},
        hosts={"build-01"},
        clusters=set(),
        workloads=set(),
        alerts=lambda namespace: False,
        finding=lambda f: (
            (f["asset"]["source_type"], f["asset"]["source"])
            in {("host", "build-01"), ("image", DEMO)}
        ),
        scan={("host", "build-01"), ("image", DEMO)},
        resource=lambda r: (
            (r["type"], r["name"]) == ("image", DEMO)
            or (r["type"], r["name"], r["where"])
            in {("host", "build-01", ""), ("container", "web", "build-01")}
        ),
    ),
    "registry:docker.io": Expect(
        images={DEMO_CONFIG},
        hosts=set(),
        clusters=set(),
        workloads=set(),
        alerts=lambda namespace: False,
        finding=lambda f: (f["asset"]["type"], f["asset"]["name"]) == ("image", DEMO),
        scan={("image", DEMO)},
        resource=lambda r: (r["type"], r["name"]) == ("image", DEMO),
    ),
    "cluster:shop": Expect(
        images={DEMO_CONFIG},
        hosts=set(),
        clusters={"shop"},
        workloads=SHOP_WORKLOADS,
        alerts=lambda namespace: True,
        finding=lambda f: (
            (f["asset"]["source_type"], f["asset"]["source"])
            in {("cluster", "shop"), ("image", DEMO)}
        ),
        scan={("cluster", "shop"), ("image", DEMO)},
        resource=lambda r: (
            (r["type"], r["name"]) in {("cluster", "shop"), ("image", DEMO)}
            or r["where"].startswith("shop")
        ),
    ),
    "namespace:shop/default": Expect(
        images={DEMO_CONFIG},
        hosts=set(),
        clusters=set(),
        workloads={("shop", "default", "demo")},
        alerts=lambda namespace: namespace == "default",
        finding=lambda f: (
            (f["asset"]["type"], f["asset"]["name"]) == ("image", DEMO)
            or (f["asset"]["source"] == "shop" and f["resource"]["namespace"] == "default")
        ),
        scan={("image", DEMO)},
        resource=lambda r: (
            (r["type"], r["name"]) == ("image", DEMO) or r["where"] == "shop / default"
        ),
    ),
}


@pytest.fixture
def world(center: Center, advisory_db) -> World:
    return populate(center, advisory_db)


@both_backends
@pytest.mark.parametrize("selector", list(SCOPES))
def test_a_scoped_reader_sees_only_its_assets_everywhere(
    center: Center, world: World, selector: str
) -> None:
    expect = SCOPES[selector]
    owner = world.owner
    scoped = center.client("reader", [selector])

    images = everything(scoped, f"{API}/images")
    assert {i["digest"] for i in images} == expect.images
    assert {h["name"] for h in everything(scoped, f"{API}/hosts")} == expect.hosts
    assert {c["name"] for c in everything(scoped, f"{API}/clusters")} == expect.clusters
    workloads = everything(scoped, f"{API}/workloads")
    assert {(w["cluster"], w["namespace"], w["name"]) for w in workloads} == expect.workloads

    # findings: exactly the owner's findings that the scope covers, in every state
    for state in ("open", "all", "passing", "resolved"):
        mine = {f["id"] for f in everything(scoped, f"{API}/findings", state=state)}
        theirs = everything(owner, f"{API}/findings", state=state)
        assert mine == {f["id"] for f in theirs if expect.finding(f)}, state
    # alerts: cluster shop's (cluster ``other`` sent the same ones), as the scope covers
    mine_alerts = everything(scoped, f"{API}/alerts")
    expected = sorted(
        (a.rule, a.resource.namespace)
        for a in envelopes.alerts("shop").alerts
        if expect.alerts(a.resource.namespace)
    )
    assert sorted((a["rule"], a["resource"]["namespace"]) for a in mine_alerts) == expected
    owner_alerts = {a["id"] for a in everything(owner, f"{API}/alerts")}
    assert {a["id"] for a in mine_alerts} <= owner_alerts
    assert all(
        a["asset"]["name"] == ("shop" if a["asset"]["type"] == "cluster" else "default")
        for a in mine_alerts
    )
    # scans
    scans = everything(scoped, f"{API}/scans")
    assert {(s["asset"]["type"], s["asset"]["name"]) for s in scans} == expect.scan

    # recommendations: every resource in scope, counts equal to the resources listed
    by_control: dict[str, dict[int, bool]] = {}
    for rec in scoped.get(f"{API}/recommendations").json():
        listed = everything(scoped, f"{API}/recommendations/{rec['id']}/resources", state="")
        assert all(expect.resource(r) for r in listed), (rec["id"], listed)
        for state in ("unhealthy", "healthy", "not_applicable"):
            assert rec[state] == sum(1 for r in listed if r["state"] == state), (rec["id"], state)
        assert scoped.get(f"{API}/recommendations/{rec['id']}").json() == rec
        assets = by_control.setdefault(rec["control"], {})
        for r in listed:
            if r["state"] != "not_applicable":
                assets[r["asset_id"]] = (
                    assets.get(r["asset_id"], False) or r["state"] == "unhealthy"
                )
    # the score: per control, the scope's resources (healthy, unhealthy)
    score = scoped.get(f"{API}/score").json()
    for control in score["controls"]:
        assets = by_control.get(control["id"], {})
        assert (control["healthy"], control["unhealthy"]) == (
            sum(1 for bad in assets.values() if not bad),
            sum(1 for bad in assets.values() if bad),
        ), control
    owner_score = owner.get(f"{API}/score").json()
    assert sum(c["healthy"] + c["unhealthy"] for c in score["controls"]) < sum(
        c["healthy"] + c["unhealthy"] for c in owner_score["controls"]
    )

    # the status counts what the scope sees
    status = scoped.get(f"{API}/status").json()
    assert status["principal"]["scope"] == [selector]
    assert status["assets"].get("host", 0) == len(expect.hosts)
    assert status["assets"].get("image", 0) == len(expect.images)
    assert status["assets"].get("cluster", 0) == len(expect.clusters)
    assert status["assets"].get("workload", 0) == len(expect.workloads)

    # exports: the same rows as the lists, in both formats
    for what, key, listed in (
        ("images", "id", images),
        ("hosts", "id", everything(scoped, f"{API}/hosts")),
        ("findings", "id", everything(scoped, f"{API}/findings", state="all")),
        ("alerts", "id", everything(scoped, f"{API}/alerts")),
    ):
        params = {"format": "json", **({"state": "all"} if what == "findings" else {})}
        exported = scoped.get(f"{API}/export/{what}", params=params)
        assert exported.status_code == 200, exported.text
        body = exported.json()
        assert body["scope"] == [selector]
        assert {i[key] for i in body["items"]} == {i[key] for i in listed}, what
        csv_text = scoped.get(f"{API}/export/{what}", params={**params, "format": "csv"}).text
        assert len([line for line in csv_text.splitlines() if line]) == len(listed) + (
            1 if listed else 0
        ), what


@both_backends
def test_a_scoped_contributor_uploads_only_inside_its_scope(
    center: Center, world: World, advisory_db
) -> None:
    prod = envelopes.k8s_scan("prod", manifests=pod("x", "a", "nginx:1"), uid="5e3c-prod-uid")
    assert world.owner.post(f"{API}/ingest", content=encode(prod), headers=JSON).status_code == 201
    before = snapshot(world.owner)
    refused = {
        "host:build-01": [
            web_01(),  # another host
            envelopes.k8s_scan("shop"),
            envelopes.alerts("shop"),
            # the image web-01 runs (its registry is quay.io, it runs elsewhere)
            msgspec.structs.replace(
                envelopes.demo_scan(advisory_db),
                asset=msgspec.structs.replace(
                    envelopes.demo_scan(advisory_db).asset,
                    id=OTHER_CONFIG,
                    config_digest=OTHER_CONFIG,
                    manifest_digest="",
                    references=(),
                ),
                results=(),
            ),
            # take-over: web-01's engine id under this scope's host name
            envelopes.host_audit("build-01", engine_id="WEB1:" + "A" * 40),
            # a new host of another name
            envelopes.host_audit("elsewhere", engine_id="NEW:" + "C" * 40),
        ],
        "cluster:shop": [
            envelopes.k8s_scan("other", manifests=pod("x", "payments", "nginx:1")),
            envelopes.alerts("other"),
            envelopes.host_audit("build-01"),
            # cluster prod's uid under the name shop
            envelopes.k8s_scan("shop", manifests=pod("x", "a", "nginx:1"), uid="5e3c-prod-uid"),
        ],
        "registry:docker.io": [
            envelopes.host_audit("build-01"),
            # image B, now claimed to be in docker.io: it is outside, it stays outside
            msgspec.structs.replace(
                envelopes.demo_scan(advisory_db),
                asset=msgspec.structs.replace(
                    envelopes.demo_scan(advisory_db).asset,
                    id=OTHER_CONFIG,
                    config_digest=OTHER_CONFIG,
                    manifest_digest="",
                    references=("docker.io/acme/tool:2",),
                ),
                results=(),
            ),
        ],
        "namespace:shop/default": [
            envelopes.k8s_scan("shop"),  # a cluster scan covers more than the namespace
            envelopes.alerts("shop"),
        ],
    }
    for selector, uploads in refused.items():
        client = center.client("contributor", [selector])
        for index, envelope in enumerate(uploads):
            response = client.post(f"{API}/ingest", content=encode(envelope), headers=JSON)
            assert response.status_code == 403, (selector, index, response.text)
            assert "scope" in response.json()["detail"]
    assert snapshot(world.owner) == before

    # inside the scope it works: the host's own audit, the registry's own image
    builder = center.client("contributor", ["host:build-01"])
    response = builder.post(
        f"{API}/ingest", content=encode(envelopes.host_audit("build-01")), headers=JSON
    )
    assert response.status_code == 201, response.text
    registry = center.client("contributor", ["registry:docker.io"])
    response = registry.post(
        f"{API}/ingest", content=encode(envelopes.demo_scan(advisory_db)), headers=JSON
    )
    assert response.status_code == 201, response.text


@both_backends
def test_details_outside_the_scope_are_not_found(center: Center, world: World) -> None:
    owner = world.owner
    scoped = center.client("contributor", ["host:build-01"])
    hosts = {h["name"]: h["id"] for h in everything(owner, f"{API}/hosts")}
    clusters = {c["name"]: c["id"] for c in everything(owner, f"{API}/clusters")}
    outside_findings = [
        f["id"]
        for f in everything(owner, f"{API}/findings", state="all")
        if not SCOPES["host:build-01"].finding(f)
    ]
    alerts = [a["id"] for a in everything(owner, f"{API}/alerts")]
    assert outside_findings and alerts
    not_found = [
        f"{API}/hosts/{hosts['web-01']}",
        f"{API}/clusters/{clusters['shop']}",
        f"{API}/images/{OTHER_CONFIG}",
        f"{API}/images/{OTHER_CONFIG}/findings",
        f"{API}/images/{OTHER_CONFIG}/sbom",
        *(f"{API}/findings/{i}" for i in outside_findings[:20]),
        *(f"{API}/alerts/{i}" for i in alerts),
    ]
    for path in not_found:
        response = scoped.get(path)
        assert response.status_code == 404, (path, response.text)
        assert owner.get(path).status_code == 200, path
    for alert in alerts:
        response = scoped.patch(f"{API}/alerts/{alert}", json={"status": "acknowledged"})
        assert response.status_code == 404
    assert {a["status"] for a in everything(owner, f"{API}/alerts")} == {"new"}
    # filters naming an asset outside give nothing (or 404), never its rows
    assert scoped.get(f"{API}/workloads", params={"cluster": clusters["shop"]}).status_code == 404
    for params in ({"asset": hosts["web-01"]}, {"source": hosts["web-01"]}):
        assert scoped.get(f"{API}/findings", params={**params, "state": "all"}).json()["total"] == 0
    assert scoped.get(f"{API}/scans", params={"asset": hosts["web-01"]}).json()["total"] == 0
    # inside, the same routes answer
    assert scoped.get(f"{API}/hosts/{hosts['build-01']}").status_code == 200
    assert scoped.get(f"{API}/images/{DEMO_CONFIG}/sbom").status_code == 200


@both_backends
def test_a_scoped_owner_cannot_widen_its_scope(center: Center) -> None:
    """An owner limited to build-01 manages tokens and users within build-01 only: no
    token or user of wider scope (that would be an escalation), no center-wide settings."""
    everyone_token = center.client("owner")
    (admin,) = [t for t in everyone_token.get(f"{API}/tokens").json()]
    center.user("root", "owner")
    scoped = center.client("owner", ["host:build-01"])
    for scope in ([], ["host:web-01"], ["host:build-01", "cluster:shop"], ["registry:docker.io"]):
        response = scoped.post(f"{API}/tokens", json={"name": "t", "role": "owner", "scope": scope})
        assert response.status_code == 403, (scope, response.text)
        response = scoped.post(
            f"{API}/users",
            json={"name": "u", "password": "a" * 12, "role": "reader", "scope": scope},
        )
        assert response.status_code == 403, (scope, response.text)
    made = scoped.post(
        f"{API}/tokens", json={"name": "agent", "role": "contributor", "scope": ["host:build-01"]}
    )
    assert made.status_code == 201, made.text
    user = scoped.post(
        f"{API}/users",
        json={"name": "bob", "password": "a" * 12, "role": "reader", "scope": ["host:build-01"]},
    ).json()
    # it sees and manages those, not the center-wide ones
    assert {t["name"] for t in scoped.get(f"{API}/tokens").json()} >= {"agent"}
    assert admin["id"] not in {t["id"] for t in scoped.get(f"{API}/tokens").json()}
    assert {u["name"] for u in scoped.get(f"{API}/users").json()} == {"bob"}
    assert scoped.delete(f"{API}/tokens/{admin['id']}").status_code == 404
    root = next(u for u in everyone_token.get(f"{API}/users").json() if u["name"] == "root")
    assert scoped.patch(f"{API}/users/{root['id']}", json={"disabled": True}).status_code == 404
    widen = scoped.patch(f"{API}/users/{user['id']}", json={"scope": []})
    assert widen.status_code == 403, widen.text
    assert scoped.patch(f"{API}/users/{user['id']}", json={"role": "contributor"}).is_success
    # center-wide administration
    assert scoped.put(f"{API}/settings", json={"health_threshold": "low"}).status_code == 403
    assert scoped.get(f"{API}/audit-log").status_code == 403
    assert everyone_token.get(f"{API}/settings").json()["health_threshold"] == "high"
    tokens = {t["id"]: t["revoked"] for t in everyone_token.get(f"{API}/tokens").json()}
    assert tokens[admin["id"]] is False


@both_backends
def test_scoped_exceptions_cover_only_the_scope(center: Center, world: World) -> None:
    scoped = center.client("contributor", ["host:build-01"])
    reader = center.client("reader", ["host:build-01"])
    owner = world.owner
    for body in (
        {"rule": "CVE-2026-0002", "reason": "everywhere?"},
        {"rule": "CVE-2026-0002", "reason": "not mine", "scope_type": "image",
         "scope_value": OTHER_CONFIG},
        {"rule": "CVE-2026-0002", "reason": "not mine", "scope_type": "repository",
         "scope_value": "quay.io/acme/tool"},
    ):  # fmt: skip
        response = scoped.post(f"{API}/exceptions", json=body)
        assert response.status_code == 403, (body, response.text)
    theirs = owner.post(
        f"{API}/exceptions",
        json={
            "rule": "CVE-2026-0002",
            "reason": "theirs",
            "scope_type": "repository",
            "scope_value": "quay.io/acme/tool",
        },
    ).json()
    everywhere = owner.post(
        f"{API}/exceptions", json={"rule": "CVE-2026-0003", "reason": "for all"}
    ).json()
    mine = scoped.post(
        f"{API}/exceptions",
        json={
            "rule": "CVE-2026-0001",
            "reason": "ours",
            "scope_type": "image",
            "scope_value": DEMO_CONFIG,
        },
    )
    assert mine.status_code == 201, mine.text
    listed = {e["id"] for e in reader.get(f"{API}/exceptions").json()}
    assert listed == {everywhere["id"], mine.json()["id"]}
    assert scoped.delete(f"{API}/exceptions/{theirs['id']}").status_code == 404
    assert scoped.delete(f"{API}/exceptions/{everywhere['id']}").status_code == 404
    assert scoped.delete(f"{API}/exceptions/{mine.json()['id']}").status_code == 204
    assert {e["id"]: e["active"] for e in owner.get(f"{API}/exceptions").json()} == {
        theirs["id"]: True, everywhere["id"]: True, mine.json()["id"]: False
    }  # fmt: skip
