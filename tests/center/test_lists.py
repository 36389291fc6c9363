"""Lists page by page, on SQLite and PostgreSQL: walking every page of a list with a small
limit gives the same items, in the same order, as one large page, and the total says how
many there are, whatever the filter, sort and scope."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from seawall.contract import encode
from seawall.contract.envelope import Envelope
from tests.center.conftest import Center, both_backends
from tests.support import envelopes

JSON = {"Content-Type": "application/json"}


def post(client: TestClient, envelope: Envelope) -> None:
    response = client.post("/api/v1/ingest", content=encode(envelope), headers=JSON)
    assert response.status_code in (200, 201), response.text


def walk(client: TestClient, path: str, limit: int, **params: Any) -> tuple[list[int], list[int]]:
    """The ids of every page in order, and the total each page reported."""
    ids: list[int] = []
    totals: list[int] = []
    cursor = None
    for _ in range(200):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [item.get("id", item.get("asset_id")) for item in page["items"]]
        totals.append(page["total"])
        cursor = page["next"]
        if not cursor:
            return ids, totals
    raise AssertionError("more than 200 pages")


@pytest.fixture
def stocked(center: Center, advisory_db) -> Center:
    client = center.client("contributor")
    post(client, envelopes.demo_scan(advisory_db))
    post(client, envelopes.host_audit())
    post(client, envelopes.k8s_scan("shop"))
    post(client, envelopes.alerts())
    return center


FINDING_QUERIES = [
    {},
    {"state": "all"},
    {"state": "all", "sort": "first_seen"},
    {"state": "all", "sort": "last_seen"},
    {"state": "all", "sort": "rule"},
    {"state": "all", "sort": "package"},
    {"state": "passing"},
    {"state": "failing", "sort": "rule"},
    {"severity": "high,critical"},
    {"severity": "medium", "state": "all"},
    {"kind": "policy"},
    {"kind": "configuration", "state": "all"},
    {"kind": ["vulnerability", "configuration"]},
    {"package": "bash", "state": "all"},
    {"rule": "cis-docker-1.6/5.11"},
    {"rule": "5.11"},
    {"rule": "CVE-2026-0002", "state": "all"},
    {"q": "bash"},
]


@both_backends
@pytest.mark.parametrize("query", FINDING_QUERIES, ids=lambda q: str(q) or "default")
def test_findings_page_by_page(stocked: Center, query: dict[str, Any]) -> None:
    client = stocked.client("reader")
    whole, (total,) = walk(client, "/api/v1/findings", 500, **query)
    assert len(whole) == total and len(set(whole)) == total
    paged, totals = walk(client, "/api/v1/findings", 2, **query)
    assert paged == whole
    assert set(totals) == {total}


@both_backends
def test_findings_of_one_source_and_asset(stocked: Center) -> None:
    client = stocked.client("reader")
    every = client.get("/api/v1/findings", params={"state": "all", "limit": 500}).json()
    for asset_id in {item["asset"]["id"] for item in every["items"]}:
        whole, (total,) = walk(client, "/api/v1/findings", 500, asset=asset_id, state="all")
        paged, totals = walk(client, "/api/v1/findings", 1, asset=asset_id, state="all")
        assert paged == whole and set(totals) == {total} == {len(whole)}
    for kind in ("hosts", "clusters", "images"):
        for owner in client.get(f"/api/v1/{kind}").json()["items"]:
            whole, (total,) = walk(client, "/api/v1/findings", 500, source=owner["id"])
            assert total == len(whole) == owner["counts"]["total"]
            severe, (severe_total,) = walk(
                client, "/api/v1/findings", 500, source=owner["id"], severity="high,critical"
            )
            counts = owner["counts"]
            assert severe_total == len(severe) == counts["high"] + counts["critical"]


@both_backends
def test_scoped_findings_page_by_page(stocked: Center) -> None:
    client = stocked.client("reader", scope=["host:build-01"])
    whole, (total,) = walk(client, "/api/v1/findings", 500, state="all")
    assert total == len(whole) > 0
    paged, _ = walk(client, "/api/v1/findings", 2, state="all")
    assert paged == whole
    open_whole, (open_total,) = walk(client, "/api/v1/findings", 500)
    assert 0 < open_total == len(open_whole) < total


@both_backends
@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/images", {}),
        ("/api/v1/images", {"sort": "name"}),
        ("/api/v1/images", {"sort": "last_scanned"}),
        ("/api/v1/hosts", {"sort": "critical"}),
        ("/api/v1/workloads", {"sort": "name"}),
        ("/api/v1/workloads", {"all_objects": "true"}),
        ("/api/v1/alerts", {}),
        ("/api/v1/alerts", {"sort": "severity"}),
        ("/api/v1/scans", {}),
        ("/api/v1/recommendations/root-containers/resources", {"state": ""}),
    ],
)
def test_other_lists_page_by_page(stocked: Center, path: str, query: dict[str, Any]) -> None:
    client = stocked.client("owner")
    whole, (total,) = walk(client, path, 500, **query)
    assert len(whole) == total >= 1
    paged, totals = walk(client, path, 1, **query)
    assert paged == whole and set(totals) == {total}
