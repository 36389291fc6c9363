"""A small world of assets for the security tests, uploaded as an owner through the API:

- image A, ``docker.io/seawall/demo:1.0`` (the demo scan, 4 findings);
- image B, ``quay.io/acme/tool:2`` (the same scan under another digest and name);
- host ``build-01`` running A (container ``web``), host ``web-01`` running B (``api``);
- cluster ``shop``: the objects of ``workloads.yaml`` (namespaces shop and lab) and a pod
  ``demo`` in ``default`` running A; its audit-log alerts (namespaces default, kube-system);
- cluster ``other``: a pod ``tool`` in ``payments`` running B; its alerts too.

Every scope test asks what a scoped caller sees of it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import msgspec
from fastapi.testclient import TestClient

from seawall.contract import encode
from seawall.contract.envelope import Envelope
from tests.center.conftest import Center
from tests.support import envelopes
from tests.support.envelopes import DEMO_CONFIG, DEMO_REFERENCE, WORKLOADS

OTHER_CONFIG = "sha256:" + "b" * 64
OTHER_REFERENCE = "quay.io/acme/tool:2"
JSON = {"Content-Type": "application/json"}


def post(client: TestClient, envelope: Envelope | bytes, key: str | None = None) -> dict:
    headers = {**JSON, **({"Idempotency-Key": key} if key else {})}
    body = envelope if isinstance(envelope, bytes) else encode(envelope)
    response = client.post("/api/v1/ingest", content=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def pod(name: str, namespace: str, image: str) -> str:
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
        f"spec:\n  containers:\n  - name: app\n    image: {image}\n"
    )


def other_image(advisory_db: Path) -> Envelope:
    scan = envelopes.demo_scan(advisory_db)
    asset = msgspec.structs.replace(
        scan.asset,
        id=OTHER_CONFIG,
        name=OTHER_REFERENCE,
        config_digest=OTHER_CONFIG,
        manifest_digest="",
        references=(OTHER_REFERENCE,),
    )
    results = tuple(
        msgspec.structs.replace(
            r, fingerprint=hashlib.md5(f"B{r.fingerprint}".encode()).hexdigest()
        )
        for r in scan.results
    )
    return msgspec.structs.replace(scan, asset=asset, results=results)


def web_01() -> Envelope:
    return envelopes.host_audit(
        "web-01",
        engine_id="WEB1:" + "A" * 40,
        containers=(("api", OTHER_REFERENCE, OTHER_CONFIG, True),),
        privileged=(),
    )


@dataclass(frozen=True)
class World:
    owner: TestClient

    def names(self, path: str, field: str = "name", **params: object) -> set[str]:
        return {item[field] for item in everything(self.owner, path, **params)}


def everything(client: TestClient, path: str, **params: object) -> list[dict]:
    """Every item of a paginated list."""
    items: list[dict] = []
    cursor = None
    while True:
        query = {**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=query)
        assert response.status_code == 200, (path, response.text)
        page = response.json()
        items += page["items"]
        assert page["total"] >= len(items)
        cursor = page["next"]
        if not cursor:
            assert page["total"] == len(items), (path, page["total"], len(items))
            return items


def populate(center: Center, advisory_db: Path) -> World:
    owner = center.client("owner")
    post(owner, envelopes.demo_scan(advisory_db))
    post(owner, other_image(advisory_db))
    post(owner, envelopes.host_audit("build-01"))
    post(owner, web_01())
    shop = WORKLOADS.read_text() + "\n---\n" + pod("demo", "default", DEMO_REFERENCE)
    post(owner, envelopes.k8s_scan("shop", manifests=shop))
    post(owner, envelopes.k8s_scan("other", manifests=pod("tool", "payments", OTHER_REFERENCE)))
    post(owner, envelopes.alerts("shop"))
    post(owner, envelopes.alerts("other"))
    return World(owner)


def snapshot(owner: TestClient) -> str:
    """What the store shows an unscoped owner: every list, for "unchanged" checks."""
    lists = {
        path: everything(owner, f"/api/v1/{path}", **params)
        for path, params in (
            ("images", {}),
            ("hosts", {}),
            ("clusters", {}),
            ("nodes", {}),
            ("workloads", {"all_objects": True}),
            ("findings", {"state": "all"}),
            ("alerts", {}),
            ("scans", {}),
        )
    }
    lists["recommendations"] = owner.get("/api/v1/recommendations").json()
    return json.dumps(lists, sort_keys=True)


__all__ = ["DEMO_CONFIG", "OTHER_CONFIG", "World", "everything", "populate", "post", "snapshot"]


def sign_in(
    center: Center, name: str, password: str, *, base_url: str = "http://testserver"
) -> tuple[TestClient, str]:
    """A browser signed in through the form: its client (cookies kept) and the session's
    CSRF token (from the page, as htmx sends it)."""
    browser = TestClient(center.app, base_url=base_url, raise_server_exceptions=False)
    browser.__enter__()
    center._clients.append(browser)
    page = browser.get("/login")
    assert page.status_code == 200, page.text
    login_csrf = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert login_csrf
    response = browser.post(
        "/login",
        data={"name": name, "password": password, "login_csrf": login_csrf[1], "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    overview = browser.get("/overview")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', overview.text)
    assert csrf, overview.text
    return browser, csrf[1]
