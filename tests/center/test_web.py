"""The dashboard on a real center (SQLite and PostgreSQL) filled with real result envelopes:
every page for an owner, sign-in needed, a Reader's view and refusals, CSRF, escaping of
what uploads say, the export links, pagination, and the changes made from its forms (with
their audit entries)."""

from __future__ import annotations

import re

import msgspec
from fastapi.testclient import TestClient
from sqlalchemy import select

from seawall.center.store.models import AlertRow, Asset, AuditEntry
from seawall.contract import encode
from seawall.contract.envelope import Envelope
from tests.center.conftest import PASSWORD, Center, both_backends
from tests.support import envelopes
from tests.support.envelopes import DEMO_CONFIG

JSON = {"Content-Type": "application/json"}
EVIL = "<script>alert(1)</script>"


def post(client: TestClient, envelope: Envelope) -> None:
    response = client.post("/api/v1/ingest", content=encode(envelope), headers=JSON)
    assert response.status_code in (200, 201), response.text


def fill(center: Center, advisory_db, host: str = "build-01") -> None:
    """The demo image scan, a host audit, a Kubernetes scan and run-time alerts."""
    client = center.client("contributor")
    for envelope in (
        envelopes.demo_scan(advisory_db),
        envelopes.host_audit(name=host),
        envelopes.k8s_scan("shop"),
        envelopes.alerts("minikube"),
    ):
        post(client, envelope)


class SignedIn(TestClient):
    csrf = ""  # the session's CSRF token, as the pages carry it


def signed_in(center: Center, name: str, role: str) -> SignedIn:
    """A browser-like client: the sign-in form posted with its token, then the session
    cookie."""
    center.user(name, role)
    client = SignedIn(center.app, raise_server_exceptions=False)
    client.__enter__()
    center._clients.append(client)
    form = client.get("/login").text
    token = re.search(r'name="login_csrf" value="([^"]+)"', form)
    assert token
    answer = client.post(
        "/login",
        data={"name": name, "password": PASSWORD, "login_csrf": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/overview").text
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', page)
    assert csrf
    client.csrf = csrf.group(1)
    return client


def ids(center: Center) -> dict[str, int]:
    with center.app.state.center.sessions() as session:
        one = {
            t: session.scalar(select(Asset.id).where(Asset.type == t).order_by(Asset.id))
            for t in ("host", "cluster", "workload", "node")
        }
        one["alert"] = session.scalar(
            select(AlertRow.id).where(AlertRow.rule_id == "runtime/k8s-exec-attach")
        )
    return {k: int(v or 0) for k, v in one.items()}


def alert_row(center: Center, alert_id: int) -> AlertRow:
    with center.app.state.center.sessions() as session:
        row = session.get(AlertRow, alert_id)
        assert row is not None
        session.expunge(row)
        return row


def audit_actions(center: Center) -> list[tuple[str, str]]:
    with center.app.state.center.sessions() as session:
        return [
            (e.actor, e.action) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


@both_backends
def test_every_page_renders_for_an_owner(center: Center, advisory_db) -> None:
    fill(center, advisory_db)
    owner = signed_in(center, "olivia", "owner")
    known = ids(center)
    pages = {
        "/overview": [
            "Secure score",
            "Score trend",
            "Resources by health",
            "Top recommendations",
            "Alerts by severity",
            'role="img"',
        ],
        "/inventory/images": ["seawall/demo:1.0", "Running", "/api/v1/export/images?format=csv"],
        "/inventory/hosts": ["build-01", "26.1.5"],
        "/inventory/registries": ["docker.io"],
        "/inventory/clusters": ["shop"],
        "/inventory/workloads": ["shop"],
        f"/images/{DEMO_CONFIG}": [
            "bash",
            "5.2.15-2+deb12u1",
            "ADD debian-12-rootfs.tar /",
            "Where it runs",
            "build-01",
            "CVE-2026-0002",
        ],
        f"/hosts/{known['host']}": [
            "2 Docker daemon configuration",
            "5 Container Runtime",
            "daemon.json icc=&#34;true&#34;",
            "Privileged=true",
            "26.1.5",
            "web",
        ],
        f"/clusters/{known['cluster']}": ["Policy results", "Workloads", "k8s/"],
        f"/workloads/{known['workload']}": ["Policy results", "Images"],
        "/recommendations": ["Container images should have vulnerability findings resolved"],
        "/recommendations/image-vulnerabilities": [
            "Remediation steps",
            "Affected resources",
            "seawall/demo:1.0",
            "<ol",
        ],
        "/findings": ["CVE-2026-0002", "/api/v1/export/findings?state=open&amp;format=csv"],
        "/findings?state=all&kind=configuration&severity=high&q=5.5": ["cis-docker-1.6/5.5"],
        "/exceptions": ["Exceptions"],
        "/alerts": ["Exec or attach into a pod", "Alerts per day"],
        f"/alerts/{known['alert']}": ["Execution", "T1609", "Evidence", "Acknowledge", "Dismiss"],
        "/settings": ["olivia", "API tokens", "Health threshold", "Scopes", "host:build-01"],
    }
    for path, expected in pages.items():
        answer = owner.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert answer.headers["content-type"].startswith("text/html")
        assert "content-security-policy" in answer.headers
        for text in expected:
            assert text in answer.text, (path, text)
        assert "olivia" in answer.text and "Sign out" in answer.text  # who, and the way out
        assert 'class="skip" href="#main"' in answer.text
        assert " style=" not in answer.text and "<script>" not in answer.text  # CSP: no inline
    # a finding, through the list
    finding = re.search(r'href="/findings/(\d+)"', owner.get("/findings").text)
    assert finding and owner.get(f"/findings/{finding.group(1)}").status_code == 200
    # resources link to their page through /assets/ID
    answer = owner.get(f"/assets/{known['host']}", follow_redirects=False)
    assert answer.headers["location"] == f"/hosts/{known['host']}"
    assert owner.get("/images/sha256:" + "0" * 64).status_code == 404


def test_pages_need_a_signed_in_user(center: Center) -> None:
    anonymous = center.anonymous()
    for path in ("/overview", "/inventory/images", "/alerts", "/settings", "/findings"):
        answer = anonymous.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next={path}"
    htmx = anonymous.get("/alerts", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"] == "/login"
    # a bearer token is not a session: the pages still ask to sign in
    token = center.client("owner")
    assert token.get("/overview", follow_redirects=False).status_code == 303
    assert (
        anonymous.post(
            "/alerts/1/status", data={"status": "acknowledged"}, follow_redirects=False
        ).status_code
        == 303
    )


@both_backends
def test_a_reader_sees_no_controls_and_is_refused(center: Center, advisory_db) -> None:
    fill(center, advisory_db)
    reader = signed_in(center, "rita", "reader")
    alert = ids(center)["alert"]
    page = reader.get(f"/alerts/{alert}").text
    assert "Acknowledge" not in page and "Dismiss" not in page
    assert f'action="/alerts/{alert}/status"' not in page
    assert 'href="/settings"' not in reader.get("/overview").text
    assert "Accept risk" not in reader.get("/findings/1").text
    assert reader.get("/settings").status_code == 403
    token = {"csrf_token": reader.csrf}
    refused = {
        f"/alerts/{alert}/status": {"status": "dismissed", "reason": "looks fine"},
        "/settings/users": {"name": "mallory", "password": "x" * 12, "role": "owner"},
        "/settings/tokens": {"name": "stolen", "role": "owner"},
        "/settings/threshold": {"health_threshold": "critical"},
        "/exceptions": {"rule": "osv/CVE-2026-0002", "reason": "not today"},
    }
    for path, form in refused.items():
        answer = reader.post(path, data={**form, **token}, follow_redirects=False)
        assert answer.status_code == 403, (path, answer.text)
        assert "role" in answer.text
    assert alert_row(center, alert).status == "new"
    assert audit_actions(center) == []


@both_backends
def test_changes_need_the_sessions_csrf_token(center: Center, advisory_db) -> None:
    fill(center, advisory_db)
    owner = signed_in(center, "olivia", "owner")
    alert = ids(center)["alert"]
    form = {"status": "acknowledged"}
    for extra in ({}, {"csrf_token": "forged"}):
        answer = owner.post(
            f"/alerts/{alert}/status", data={**form, **extra}, follow_redirects=False
        )
        assert answer.status_code == 403 and "CSRF" in answer.text
    wrong = owner.post(
        "/settings/threshold",
        data={"health_threshold": "low"},
        headers={"X-CSRF-Token": "forged"},
        follow_redirects=False,
    )
    assert wrong.status_code == 403
    assert alert_row(center, alert).status == "new"
    # the header htmx sends from <body hx-headers> is accepted, as is the hidden field
    answer = owner.post(
        f"/alerts/{alert}/status",
        data=form,
        headers={"X-CSRF-Token": owner.csrf, "HX-Request": "true"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == f"/alerts/{alert}"
    assert alert_row(center, alert).status == "acknowledged"
    assert owner.post("/logout", follow_redirects=False).status_code == 403  # no token
    out = owner.post("/logout", data={"csrf_token": owner.csrf}, follow_redirects=False)
    assert (
        out.status_code == 303 and owner.get("/overview", follow_redirects=False).status_code == 303
    )


@both_backends
def test_alert_triage_from_the_page(center: Center, advisory_db) -> None:
    fill(center, advisory_db)
    carlos = signed_in(center, "carlos", "contributor")
    alert = ids(center)["alert"]
    token = {"csrf_token": carlos.csrf}
    no_reason = carlos.post(f"/alerts/{alert}/status", data={"status": "dismissed", **token})
    assert no_reason.status_code == 422 and "dismissing needs a reason" in no_reason.text
    assert 'id="triage"' in no_reason.text  # the part htmx swaps, with the message
    done = carlos.post(
        f"/alerts/{alert}/status",
        data={"status": "dismissed", "reason": "our on-call engineer, incident 4711", **token},
    )
    assert done.status_code == 200  # followed to the alert's page
    assert "Dismissed by <strong>carlos</strong>" in done.text
    assert "incident 4711" in done.text
    row = alert_row(center, alert)
    assert (row.status, row.status_by) == ("dismissed", "carlos")
    assert audit_actions(center)[-1] == ("carlos", "alert.dismissed")
    # the API changes alerts through the same service, with the same rule
    api = center.client("contributor")
    refused = api.patch(f"/api/v1/alerts/{alert}", json={"status": "dismissed", "reason": " "})
    assert refused.status_code == 422
    assert api.patch(f"/api/v1/alerts/{alert}", json={"status": "new"}).json()["status"] == "new"
    listed = carlos.get("/alerts?status=dismissed").text
    assert "No alerts match." in listed


@both_backends
def test_owner_settings_users_tokens_and_threshold(center: Center, advisory_db) -> None:
    fill(center, advisory_db)
    owner = signed_in(center, "olivia", "owner")
    token = {"csrf_token": owner.csrf}
    made = owner.post(
        "/settings/users",
        data={
            "name": "nina",
            "password": "long enough password",
            "role": "reader",
            "scope": "host:build-01",
            **token,
        },
    )
    assert made.status_code == 200 and "User created." in made.text and "nina" in made.text
    weak = owner.post(
        "/settings/users", data={"name": "bob", "password": "short", "role": "reader", **token}
    )
    assert weak.status_code == 422 and "password" in weak.text
    taken = owner.post(
        "/settings/users",
        data={"name": "nina", "password": "long enough password", "role": "reader", **token},
    )
    assert taken.status_code == 422 and "exists already" in taken.text
    with center.app.state.center.sessions() as session:
        from seawall.center.store.models import User

        nina = session.scalar(select(User).where(User.name == "nina"))
        me = session.scalar(select(User).where(User.name == "olivia"))
        assert nina and me and nina.scope == ["host:build-01"]
        nina_id, my_id = nina.id, me.id
    changed = owner.post(
        f"/settings/users/{nina_id}",
        data={"role": "contributor", "scope": "", "disabled": "on", **token},
    )
    assert changed.status_code == 200 and "User changed." in changed.text
    myself = owner.post(f"/settings/users/{my_id}", data={"role": "reader", **token})
    assert myself.status_code == 422 and "cannot demote" in myself.text
    # a token: its value shown once, working as a bearer token, then revoked
    created = owner.post(
        "/settings/tokens",
        data={"name": "ci", "role": "contributor", "scope": "", "expires_in_days": "30", **token},
    )
    value = re.search(r'id="new-token">(swt_[\w-]+)<', created.text)
    assert created.status_code == 200 and value
    assert created.headers["cache-control"] == "no-store"
    assert value.group(1) not in owner.get("/settings").text  # never again
    bearer = center.anonymous()
    bearer.headers["Authorization"] = f"Bearer {value.group(1)}"
    assert bearer.get("/api/v1/images").status_code == 200
    token_id = re.search(r'action="/settings/tokens/(\d+)/revoke"', owner.get("/settings").text)
    assert token_id
    owner.post(f"/settings/tokens/{token_id.group(1)}/revoke", data=token)
    assert bearer.get("/api/v1/images").status_code == 401
    # the threshold: every image is healthy with nothing critical open... but the demo has one
    saved = owner.post("/settings/threshold", data={"health_threshold": "critical", **token})
    assert saved.status_code == 200 and "Health threshold saved" in saved.text
    assert owner.get("/api/v1/settings").json() == {"health_threshold": "critical"}
    assert [a for _, a in audit_actions(center)] == [
        "user.create",
        "user.change",
        "token.create",
        "token.revoke",
        "settings.change",
    ]


@both_backends
def test_accepting_a_finding_as_a_risk(center: Center, advisory_db) -> None:
    fill(center, advisory_db)
    carlos = signed_in(center, "carlos", "contributor")
    bash = re.search(
        r'href="/findings/(\d+)">CVE-2026-0002', carlos.get(f"/images/{DEMO_CONFIG}").text
    )
    assert bash
    page = carlos.get(f"/findings/{bash.group(1)}").text
    assert "Accept risk" in page
    token = {"csrf_token": carlos.csrf}
    accepted = carlos.post(
        "/exceptions",
        data={
            "rule": "osv/CVE-2026-0002",
            "scope_type": "image",
            "scope_value": DEMO_CONFIG,
            "expires_in_days": "30",
            "reason": "not reachable: bash is never run",
            **token,
        },
    )
    assert accepted.status_code == 200 and "not reachable" in accepted.text
    assert "Accepted as a risk" in carlos.get(f"/findings/{bash.group(1)}").text
    assert "CVE-2026-0002" not in carlos.get(f"/images/{DEMO_CONFIG}").text.split("Layers")[0]
    lift = re.search(r'action="/exceptions/(\d+)/lift"', accepted.text)
    assert lift
    carlos.post(f"/exceptions/{lift.group(1)}/lift", data=token)
    assert "CVE-2026-0002" in carlos.get(f"/images/{DEMO_CONFIG}").text
    assert [a for _, a in audit_actions(center)] == ["exception.create", "exception.delete"]


@both_backends
def test_a_cluster_lists_its_nodes_and_a_node_shows_its_checks(center: Center) -> None:
    client = center.client("contributor")
    post(client, envelopes.k8s_scan("shop"))
    post(client, envelopes.node_audit(cluster="shop"))
    post(client, envelopes.node_audit(name="edge-1", machine_id="e" * 32, cluster=""))
    reader = signed_in(center, "rita", "reader")
    with center.app.state.center.sessions() as session:
        cluster, node = (
            session.scalar(select(Asset.id).where(Asset.type == t, Asset.name == n))
            for t, n in (("cluster", "shop"), ("node", "cp1"))
        )
    cluster_page = reader.get(f"/clusters/{cluster}")
    assert cluster_page.status_code == 200
    nodes = cluster_page.text.split('id="nodes-h"')[1].split("</section>")[0]
    for text in (f'href="/nodes/{node}"', "cp1", "control-plane", "kubeadm", "50%"):
        assert text in nodes, text
    assert "edge-1" not in nodes  # a node of no cluster
    assert 'aria-label="open findings: 0 critical, 1 high, 0 medium, 1 low"' in nodes

    page = reader.get(f"/nodes/{node}")
    assert page.status_code == 200, page.text[:500]
    for text in (
        "CIS Kubernetes Benchmark",
        f'href="/clusters/{cluster}"',
        "https://192.168.49.2:6443",
        "1.2 API Server",
        "4.1 Worker Node Configuration Files",
        "4.2 Kubelet",
        "Ensure that the --anonymous-auth argument is set to false",
        'Node cp1:</span> <code class="evidence">--4.2.1 (want better)</code>',
        "authentication.anonymous.enabled: false",  # the check's remediation
        "Not applicable",  # 4.1.3
        "kubelet process 812",
    ):
        assert text in page.text, text
    failed = re.search(r'<div class="value">(\d+)</div><div class="label">Checks failed', page.text)
    assert failed and failed.group(1) == "2"

    listed = reader.get("/inventory/nodes").text
    assert "cp1" in listed and "edge-1" in listed and f'href="/clusters/{cluster}"' in listed
    exported = re.search(r'href="(/api/v1/export/nodes[^"]+json)"', listed)
    assert exported, "an export link"
    items = reader.get(exported.group(1).replace("&amp;", "&")).json()["items"]
    assert {(i["name"], i["cluster"]) for i in items} == {("cp1", "shop"), ("edge-1", "")}
    one = reader.get(f"/inventory/nodes?cluster={cluster}&healthy=no").text
    assert "cp1" in one and "edge-1" not in one
    assert reader.get("/inventory/nodes?cluster=999999").status_code == 404
    moved = reader.get(f"/assets/{node}", follow_redirects=False)
    assert moved.headers["location"] == f"/nodes/{node}"
    assert "/inventory/nodes" in reader.get("/overview").text
    assert reader.get("/nodes/999999").status_code == 404


@both_backends
def test_what_uploads_say_is_shown_escaped(center: Center, advisory_db) -> None:
    client = center.client("contributor")
    post(client, envelopes.demo_scan(advisory_db))
    post(
        client,
        envelopes.host_audit(
            name=EVIL,
            containers=((EVIL, envelopes.DEMO_REFERENCE, DEMO_CONFIG, True),),
            privileged=(EVIL,),
        ),
    )
    batch = envelopes.alerts("minikube")
    first = batch.alerts[0]
    evil_alert = msgspec.structs.replace(
        first, title=EVIL, evidence={**first.evidence, "message": EVIL, EVIL: "key"}
    )
    post(client, msgspec.structs.replace(batch, alerts=(evil_alert,)))
    post(client, envelopes.node_audit(name=EVIL, cluster=EVIL))
    owner = signed_in(center, "olivia", "owner")
    known = ids(center)
    with center.app.state.center.sessions() as session:
        evil_cluster = session.scalar(select(Asset.parent_id).where(Asset.type == "node"))
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in (
        "/inventory/hosts",
        f"/hosts/{known['host']}",
        f"/images/{DEMO_CONFIG}",
        "/alerts",
        f"/alerts/{known['alert'] or 1}",
        "/overview",
        "/settings",
        "/findings?state=all",
        "/recommendations/privileged-containers",
        "/inventory/nodes",
        f"/nodes/{known['node']}",
        f"/clusters/{evil_cluster}",
        "/recommendations/k8s-node-configuration",
    ):
        page = owner.get(path)
        assert page.status_code == 200, path
        assert EVIL not in page.text, path
        assert escaped in page.text, path


@both_backends
def test_the_export_links_answer_csv_and_json(center: Center, advisory_db) -> None:
    fill(center, advisory_db)
    owner = signed_in(center, "olivia", "owner")
    pages = [
        "/inventory/images",
        "/inventory/hosts",
        "/inventory/registries",
        "/inventory/clusters",
        "/inventory/workloads",
        "/findings?kind=vulnerability",
        "/alerts",
        f"/images/{DEMO_CONFIG}",
    ]
    for path in pages:
        links = re.findall(r'href="(/api/v1/export/[^"]+)"', owner.get(path).text)
        assert len(links) == 2, path
        for link in links:
            link = link.replace("&amp;", "&")
            answer = owner.get(link)
            assert answer.status_code == 200, (link, answer.text)
            if "format=json" in link:
                assert answer.headers["content-type"] == "application/json"
                assert answer.json()["items"], link
            else:
                assert answer.headers["content-type"].startswith("text/csv")
                assert len(answer.text.splitlines()) >= 2, link
    # the image's export holds its findings only
    link = re.findall(
        r'href="(/api/v1/export/findings[^"]+json)"', owner.get(f"/images/{DEMO_CONFIG}").text
    )[0]
    items = owner.get(link.replace("&amp;", "&")).json()["items"]
    assert {i["package"] for i in items} == {"bash", "ms", "requests", "libc6"}


def test_lists_page_with_their_cursors(center: Center, advisory_db) -> None:
    fill(center, advisory_db)
    owner = signed_in(center, "olivia", "owner")
    first = owner.get("/findings?state=all").text
    more = re.search(r'<a class="btn secondary small" href="([^"]+)" hx-get="([^"]+)"', first)
    assert more, "a next-page link"
    link = more.group(1).replace("&amp;", "&")
    assert "cursor=" in link and more.group(1) == more.group(2)
    rows = re.findall(r'href="/findings/(\d+)"', first)
    second = owner.get(link, headers={"HX-Request": "true"}).text
    later = re.findall(r'href="/findings/(\d+)"', second)
    assert len(rows) == 50 and later and not set(rows) & set(later)
    assert owner.get("/findings?cursor=garbage").status_code == 400


@both_backends
def test_the_jobs_page_shows_states_and_reasons(center: Center) -> None:
    import datetime as dt

    from seawall.center.jobs import queue

    now = dt.datetime.now(dt.UTC)
    with center.app.state.center.sessions() as session, session.begin():
        for key, title in (("a", "scan r.example/app:1"), ("b", "scan r.example/gone:2")):
            failing, _ = queue.enqueue(session, kind="scan_image", key=key, payload={},
                                       priority=queue.PUSH, now=now, title=title)  # fmt: skip
        session.flush()
        assert queue.claim(session, failing.id, "w", now, queue.QueuePolicy())
        queue.fail(session, failing.id, "w", now, "no such image in the registry",
                   queue.QueuePolicy(), retryable=False)  # fmt: skip
    reader = signed_in(center, "rita", "reader")
    html = reader.get("/jobs").text
    assert 'action="/jobs/' not in html  # a reader sees no controls
    contributor = signed_in(center, "carl", "contributor")
    page = contributor.get("/jobs").text
    queued_id = re.search(r'action="/jobs/(\d+)/cancel"', page)
    assert queued_id  # only the queued job can be cancelled
    form = {"csrf_token": contributor.csrf}
    done = contributor.post(f"/jobs/{queued_id.group(1)}/cancel", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert "scan r.example/app:1" in html and "Failed" in html
    assert "no such image in the registry" in html and "Failed" in html
    only_failed = reader.get("/jobs?state=failed").text
    assert "scan r.example/gone:2" in only_failed and "scan r.example/app:1" not in only_failed
    assert "scan r.example/app:1" in reader.get("/jobs?state=cancelled").text
    assert reader.get("/jobs?state=bogus").status_code == 422


@both_backends
def test_an_owner_watches_a_registry_from_the_settings_page(center: Center) -> None:
    import yaml

    owner = signed_in(center, "olga", "owner")
    answer = owner.post(
        "/settings/registries",
        data={"url": "https://registry.example:5000", "username": "puller",
              "password": "pull-secret-1", "center_url": "http://seawall:8080",
              "csrf_token": owner.csrf},
    )  # fmt: skip
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    block = re.search(r'<pre class="token" id="new-registry">(.*?)</pre>', answer.text, re.S)
    assert block
    config = yaml.safe_load(block.group(1).replace("&#34;", '"').replace("&#39;", "'"))
    endpoint = config["notifications"]["endpoints"][0]
    assert endpoint["url"].startswith("http://seawall:8080/api/v1/registries/")
    assert len(endpoint["headers"]["Seawall-Registry-Secret"][0]) > 30
    page = owner.get("/settings").text
    assert "registry.example:5000" in page and "as puller" in page
    assert "pull-secret-1" not in page and "Seawall-Registry-Secret" not in page
    again = owner.post("/settings/registries", data={"url": "https://registry.example:5000",
                                                      "csrf_token": owner.csrf})  # fmt: skip
    assert "already watched" in again.text
    listed = center.client("owner").get("/api/v1/registries").json()
    assert [(r["name"], r["has_password"]) for r in listed] == [("registry.example:5000", True)]


@both_backends
def test_an_owner_adds_a_channel_and_a_rule_from_the_settings_page(center: Center) -> None:
    owner = signed_in(center, "omar", "owner")
    form = {"name": "security team", "kind": "email", "host": "smtp.example.org", "port": "587",
            "sender": "seawall@example.org", "recipients": "a@example.org, b@example.org",
            "password": "smtp-secret-1", "csrf_token": owner.csrf}  # fmt: skip
    added = owner.post("/settings/channels", data=form, follow_redirects=False)
    assert added.status_code == 303, added.text
    bad = owner.post("/settings/channels", data={**form, "name": "x", "sender": "not an address"})
    assert bad.status_code == 422 and "address" in bad.text.lower()
    page = owner.get("/settings").text
    assert "security team" in page and "smtp-secret-1" not in page
    channel_id = re.search(r'<option value="(\d+)">security team</option>', page)
    assert channel_id
    rule = {"name": "criticals", "channel_id": channel_id.group(1), "kinds": "new_critical_finding",
            "min_severity": "critical", "csrf_token": owner.csrf}  # fmt: skip
    assert owner.post("/settings/rules", data=rule, follow_redirects=False).status_code == 303
    assert "criticals (new_critical_finding)" in owner.get("/settings").text
    listed = center.client("owner").get("/api/v1/notifications/channels").json()
    assert listed[0]["settings"]["recipients"] == ["a@example.org", "b@example.org"]
