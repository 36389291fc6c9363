"""A hostile-payload corpus for ``POST /api/v1/ingest``: every input gets a clear 4xx naming
the problem, never a 500, never a traceback, and a refused upload leaves the store as it was.
The inputs are built here, small; hypothesis throws arbitrary JSON and bytes at it too.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.contract import encode
from seawall.contract.envelope import SCHEMA_ID
from tests.center.conftest import Center, MakeCenter, both_backends
from tests.center.world import JSON, World, populate, snapshot
from tests.support import envelopes

INGEST = "/api/v1/ingest"
TRACEBACK_MARKS = ("Traceback", 'File "', "sqlalchemy", "psycopg", "pg8000", "IntegrityError")


def refused(response: Any, status: int | tuple[int, ...], *names: str) -> str:
    """The response is ``status`` with a JSON detail that names ``names``; its detail."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json")
    for mark in TRACEBACK_MARKS:
        assert mark not in response.text, response.text[:500]
    detail = json.dumps(response.json()["detail"])
    for name in names:
        assert name in detail, (name, detail[:500])
    return detail


def host() -> dict[str, Any]:
    """A host audit as plain JSON, to break."""
    return json.loads(encode(envelopes.host_audit()))


def node() -> dict[str, Any]:
    """A node audit of cluster ``shop`` as plain JSON, to break."""
    return json.loads(encode(envelopes.node_audit()))


def cluster() -> dict[str, Any]:
    return json.loads(encode(envelopes.k8s_scan("shop")))


def alerts() -> dict[str, Any]:
    return json.loads(encode(envelopes.alerts("shop")))


def admission(*decisions: dict[str, Any]) -> dict[str, Any]:
    """An admission envelope of the cluster ``shop`` holding ``decisions`` (plain JSON)."""
    from seawall.contract.envelope import Asset
    from seawall.report.envelope.admission import admission_envelope

    document = json.loads(
        encode(admission_envelope(Asset(type="cluster", id="shop", name="shop"), []))
    )
    document["decisions"] = list(decisions)
    return document


def decision(uid: str, **fields: Any) -> dict[str, Any]:
    return {"time": "2026-12-06T00:00:00Z", "uid": uid, "operation": "CREATE", "kind": "Pod",
            "namespace": "team", "name": "p", "allowed": False, "would_deny": True,
            "violations": ["no privileged"], **fields}  # fmt: skip


def send(client: TestClient, document: Any, **headers: str) -> Any:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return client.post(INGEST, content=body, headers={**JSON, **headers})


@pytest.fixture
def world(center: Center, advisory_db) -> World:
    return populate(center, advisory_db)


@pytest.fixture
def contributor(center: Center) -> TestClient:
    return center.client("contributor")


# -- the body: size, framing, type, encoding ------------------------------------------------


def raw_post(
    app: FastAPI, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> tuple[int, bytes]:
    """Call the ASGI application directly: headers exactly as given (duplicates, no
    Content-Length), the body in ``chunks``."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks or [b""])
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def respond(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": INGEST,
        "raw_path": INGEST.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, respond))  # type: ignore[arg-type]
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, sent  # one answer, not a 500 followed by a 413
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(starts[0]["status"]), body


@both_backends
def test_bodies_over_the_limit_are_refused_however_they_come(make_center: MakeCenter) -> None:
    center = make_center(max_body_bytes=16384)
    client = center.client("contributor")
    token = client.headers["Authorization"].encode()
    big = json.dumps({**host(), "warnings": ["x" * 20000]}).encode()
    small = encode(envelopes.host_audit())
    assert len(small) < 16384 < len(big)
    # announced by Content-Length
    refused(send(client, big), 413, "16384")
    # chunked, no Content-Length: counted while read
    auth = [(b"authorization", token), (b"content-type", b"application/json")]
    chunks = [big[i : i + 4000] for i in range(0, len(big), 4000)]
    status, body = raw_post(center.app, auth, chunks)
    assert status == 413 and b"16384" in body, body
    # a Content-Length that lies (says small, sends more) is cut at the limit too
    status, body = raw_post(center.app, [*auth, (b"content-length", b"100")], chunks)
    assert status in (400, 413), body
    # duplicate or malformed Content-Length: refused before anything is read
    length = str(len(small)).encode()
    for lengths in ([length, length], [length, b"1"], [b"-1"], [b"12abc"], [b" 12"], [b""]):
        headers = [*auth, *((b"content-length", v) for v in lengths)]
        status, body = raw_post(center.app, headers, [small])
        assert status == 400 and b"Content-Length" in body, (lengths, status, body)
    # under the limit, chunked, it is stored
    status, body = raw_post(center.app, auth, [small[:1000], small[1000:]])
    assert status == 201, body
    # the limit holds before authentication: an anonymous big body is 413 or 401, not read
    anonymous = center.anonymous()
    assert anonymous.post(INGEST, content=big, headers=JSON).status_code in (401, 413)


@both_backends
def test_only_json_is_taken(contributor: TestClient) -> None:
    body = encode(envelopes.host_audit())
    for content_type in ("text/plain", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x", "application/jsonx",
                         "application/xml", "json", ""):  # fmt: skip
        response = contributor.post(INGEST, content=body, headers={"Content-Type": content_type})
        refused(response, 415, "application/json")
    response = contributor.post(INGEST, content=body)  # no Content-Type at all
    refused(response, 415, "application/json")
    ok = contributor.post(
        INGEST, content=body, headers={"Content-Type": "Application/JSON; charset=utf-8"}
    )
    assert ok.status_code == 201, ok.text


# -- the document ---------------------------------------------------------------------------


def _set(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every field of a document (the first element of each list only)."""
    if path:
        yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list) and value:
        yield from _paths(value[0], (*path, 0))


def _wrong(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, int | float):
        return "12"
    if isinstance(value, str):
        return 12
    if isinstance(value, list):
        return {"not": "a list"}
    if isinstance(value, dict):
        return ["not", "an", "object"]
    return [None]


MAPS = {"attributes", "labels", "evidence", "mappings", "statuses", "severities", "components"}


def _jsonpath(path: tuple[Any, ...]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


@both_backends
def test_a_wrong_type_anywhere_is_named(center: Center, contributor: TestClient) -> None:
    owner = center.client("owner")
    before = snapshot(owner)
    checked = 0
    for document in (host(), cluster(), alerts(), node()):
        for path, value in _paths(document):
            if path == ("schema",):
                continue
            parent: Any = document
            for step in path[:-1]:
                parent = parent[step]
            if isinstance(parent, dict) and len(path) > 1 and path[-2] in MAPS:
                name = _jsonpath(path[:-1]) + "[...]"  # msgspec's name for a map's values
            else:
                name = _jsonpath(path)
            refused(send(contributor, _set(document, path, _wrong(value))), 422, name)
            checked += 1
    assert checked > 100
    # the top level itself
    for document in ([], "envelope", 12, None, True):
        refused(send(contributor, document), 422, "body")
    assert snapshot(owner) == before


@both_backends
def test_schema_ids_that_are_not_this_one(contributor: TestClient) -> None:
    for schema in (SCHEMA_ID.replace("v1", "v2"), "", None, 1, SCHEMA_ID + " ", SCHEMA_ID.upper()):
        refused(send(contributor, {**host(), "schema": schema}), 422, "schema")
    document = host()
    del document["schema"]
    refused(send(contributor, document), 422, "schema")
    refused(send(contributor, {**host(), "kind": "nuclear-launch"}), 422, "kind")
    refused(send(contributor, {**host(), "kind": "admission"}), 422, "admission")


@both_backends
def test_broken_json_and_encodings(center: Center, contributor: TestClient) -> None:
    owner = center.client("owner")
    before = snapshot(owner)
    good = encode(envelopes.host_audit())
    for body in (
        b"", b"{", b"{}", b"null", b"\x00", b"\xff\xfe{}", b'{"schema": "\xff\xfe"}',
        good.replace(b'"build-01"', b'"build-\xc3\x28-01"', 1),  # invalid UTF-8
        good.replace(b'"build-01"', b'"build-\xed\xa0\x80"', 1),  # an encoded surrogate
        good[:-1], good + b"garbage", b"\xef\xbb\xbf" + good + b"\x00",
    ):  # fmt: skip
        refused(send(contributor, body), (400, 422))
    assert snapshot(owner) == before


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@both_backends
def test_deep_nesting_is_refused(contributor: TestClient) -> None:
    for levels in (1000, 100_000):
        text = '{"schema": ' + _deep(levels) + "}"
        refused(send(contributor, text.encode()), (400, 422))
        document = json.dumps(host()).replace(
            '"labels": {}', '"labels": {"a": ' + _deep(levels) + "}", 1
        )
        refused(send(contributor, document.encode()), (400, 422), "nested too deeply")
        objects = '{"a":' * levels + "1" + "}" * levels
        refused(send(contributor, ('{"schema": ' + objects + "}").encode()), (400, 422))


NAMES = {
    "NUL byte": "build\u0000-01",
    "lone surrogate": "build-\ud800-01",
    "lone low surrogate": "\udfff",
}


@both_backends
@pytest.mark.parametrize("what", list(NAMES))
def test_nul_bytes_and_lone_surrogates_are_refused(
    center: Center, contributor: TestClient, what: str
) -> None:
    owner = center.client("owner")
    before = snapshot(owner)
    bad = NAMES[what]
    cases = [
        (("asset", "name"), "$.asset.name"),
        (("results", 0, "evidence"), "$.results[0].evidence"),
        (("host", "containers", 0, "name"), "$.host.containers[0].name"),
        (("rules", 0, "title"), "$.rules[0].title"),
        (("asset", "attributes"), "$.asset.attributes"),
    ]
    for path, name in cases:
        value: Any = {bad: "x"} if path[-1] == "attributes" else bad
        # json.dumps writes lone surrogates as \\ud800 escapes, as a hostile client would;
        # the JSON decoder refuses those by position, the NUL check names the field
        detail = refused(send(contributor, _set(host(), path, value)), 422)
        if what == "NUL byte":
            assert name in detail and "NUL" in detail, detail
        else:
            assert "surrogate" in detail or "escape" in detail, detail
    assert snapshot(owner) == before


@both_backends
def test_oversized_fields_are_named(center: Center, contributor: TestClient) -> None:
    owner = center.client("owner")
    before = snapshot(owner)
    long = "x" * 10_240
    cases = [
        (("asset", "id"), long, "$.asset.id"),
        (("asset", "name"), long, "$.asset.name"),
        (("asset", "config_digest"), "sha256:" + "a" * 200, "$.asset.config_digest"),
        (("results", 0, "fingerprint"), "f" * 33, "$.results[0].fingerprint"),
        (("host", "containers", 0, "image_id"), "sha256:" + "a" * 200,
         "$.host.containers[0].image_id"),
        (("host", "containers", 0, "image"), long, "$.host.containers[0].image"),
        (("database",), {"built_at": long}, "$.database.built_at"),
        (("results", 0, "evidence"), "e" * 2_000_000, "$.results[0].evidence"),
    ]  # fmt: skip
    for path, value, name in cases:
        refused(send(contributor, _set(host(), path, value)), 422, name)
    rule = "r" * 400
    document = host()
    document["rules"][0]["id"] = rule
    for result in document["results"]:
        if result["rule"] == host()["rules"][0]["id"]:
            result["rule"] = rule
    refused(send(contributor, document), 422, "$.rules[0].id")
    workloads = cluster()
    workloads["workloads"][0]["namespace"] = "n" * 300
    refused(send(contributor, workloads), 422, "$.workloads[0].namespace")
    assert snapshot(owner) == before


@both_backends
def test_absurd_numbers(center: Center, contributor: TestClient) -> None:
    owner = center.client("owner")
    before = snapshot(owner)
    for count in (2**63, 2**64 + 1, -1, 0, 10**40):
        document = alerts()
        document["alerts"][0]["count"] = count
        refused(send(contributor, document), 422, "$.alerts[0].count")
    for value in ("1e999", "-1e999", "1e400"):
        text = json.dumps(host()).replace(
            '"score_percent": ', '"score_percent": ' + value + ', "x": ', 1
        )
        refused(send(contributor, text.encode()), 422)
    for field in ("images", "containers_running"):
        document = host()
        document["host"][field] = 10**30
        refused(send(contributor, document), 422, f"$.host.{field}")
    assert snapshot(owner) == before


@both_backends
def test_duplicates_inside_an_upload(center: Center, contributor: TestClient) -> None:
    owner = center.client("owner")
    before = snapshot(owner)
    document = host()
    document["results"][1]["fingerprint"] = document["results"][0]["fingerprint"]
    refused(send(contributor, document), 422, "fingerprint", "not unique")
    document = host()
    document["rules"].append(document["rules"][0])
    refused(send(contributor, document), 422, "listed twice")
    document = host()
    document["results"][0]["rule"] = "cis-docker-1.6/99.99"
    refused(send(contributor, document), 422, "not in rules")
    document = host()
    document["results"][0]["fingerprint"] = ""
    refused(send(contributor, document), 422, "fingerprint is empty")
    assert snapshot(owner) == before
    # repeated names that are not identities: stored once each, no 500
    document = cluster()
    document["workloads"].append(document["workloads"][0])
    document["workloads"][0]["images"] = ["nginx:1", "nginx:1"]
    response = send(contributor, document)
    assert response.status_code == 201, response.text
    document = host()
    document["host"]["containers"].append(document["host"]["containers"][0])
    document["asset"]["attributes"] = {}
    assert send(contributor, document).status_code == 201
    image = json.loads(encode(envelopes.demo_sbom()))
    image["asset"]["manifest_digest"] = image["asset"]["config_digest"]
    image["asset"]["references"] *= 2
    assert send(contributor, image).status_code == 201


@both_backends
def test_a_fingerprint_of_another_asset_is_a_conflict(
    center: Center, world: World, contributor: TestClient
) -> None:
    before = snapshot(world.owner)
    theirs = json.loads(encode(envelopes.host_audit("build-01")))
    mine = json.loads(encode(envelopes.host_audit("web-99", engine_id="W99:" + "B" * 40)))
    mine["results"][0]["fingerprint"] = theirs["results"][0]["fingerprint"]
    refused(send(contributor, mine), 409, "$.results[0].fingerprint")
    assert snapshot(world.owner) == before


@both_backends
def test_idempotency_keys_are_checked(contributor: TestClient) -> None:
    body = encode(envelopes.host_audit())
    for key in ("has space", "k" * 65, "a/b", "a;b", "<script>", "'; drop table scans;--"):
        response = contributor.post(INGEST, content=body, headers={**JSON, "Idempotency-Key": key})
        refused(response, 422, "idempotency-key")
    for key in (b"\xc3\xa9t\xc3\xa9", b"\xff"):
        response = contributor.post(INGEST, content=body, headers={**JSON, "Idempotency-Key": key})  # type: ignore[dict-item]
        refused(response, 422, "idempotency-key")
    ok = contributor.post(INGEST, content=body, headers={**JSON, "Idempotency-Key": "run-1.a_b"})
    assert ok.status_code == 201


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


INJECTIONS = [
    "'; DROP TABLE assets; --",
    '" OR 1=1 --',
    "') OR ('1'='1",
    "1; SELECT pg_sleep(5)",
    "%' UNION SELECT password_hash FROM users --",
    "\\'; DELETE FROM findings; --",
    "*/ OR 1=1 /*",
]
TRAVERSALS = ["../../../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/shadow", "%2e%2e%2f"]


@both_backends
def test_sql_and_path_looking_text_is_only_data(center: Center, world: World) -> None:
    client = center.client("contributor")
    owner = world.owner
    for index, text in enumerate(INJECTIONS + TRAVERSALS):
        document = host()
        document["asset"]["name"] = f"{text} {index}"
        document["asset"]["id"] = f"engine-{index}"
        for result in document["results"]:  # fingerprints are per asset
            result["fingerprint"] = f"{index:02d}" + result["fingerprint"][2:]
        document["host"]["containers"][0]["name"] = text
        document["host"]["containers"][0]["image"] = text
        document["host"]["kernel"] = text
        for rule in document["rules"]:
            rule["title"] = text
            rule["description"] = text
        for result in document["results"]:
            result["evidence"] = text
            result["message"] = text
            if result["resource"]["kind"] == "container":
                result["resource"]["name"] = text
        assert send(client, document).status_code == 201
        hosts = owner.get("/api/v1/hosts", params={"q": text}).json()["items"]
        assert [h["name"] for h in hosts] == [f"{text} {index}"]
        detail = owner.get(f"/api/v1/hosts/{hosts[0]['id']}").json()
        assert detail["kernel"] == text and detail["containers_list"][0]["name"] == text
        found = owner.get("/api/v1/findings", params={"source": hosts[0]["id"]}).json()["items"]
        assert found and {f["evidence"] for f in found} == {text}
    # every list filter takes them as values, never as SQL
    filters = {
        "/api/v1/images": ["q", "registry"],
        "/api/v1/hosts": ["q"],
        "/api/v1/workloads": ["q", "namespace", "kind"],
        "/api/v1/findings": ["q", "rule", "package"],
        "/api/v1/alerts": ["rule", "tactic"],
    }
    counts = {path: owner.get(path).json()["total"] for path in filters}
    for path, names in filters.items():
        for name in names:
            for text in INJECTIONS + TRAVERSALS:
                response = owner.get(path, params={name: text})
                assert response.status_code == 200, (path, name, response.text)
                for item in response.json()["items"]:
                    assert any(text in s for s in _strings(item)), (path, name, item)
    checked = {
        "/api/v1/findings": ("severity", "state", "cursor", "sort", "kind", "asset"),
        "/api/v1/alerts": ("severity", "status", "cursor", "sort", "since"),
        "/api/v1/export/findings": ("severity", "state", "format"),
        "/api/v1/images": ("sort", "cursor", "healthy", "limit"),
    }
    for path, parameters in checked.items():
        for text in INJECTIONS:
            for name in parameters:
                response = owner.get(path, params={name: text})
                assert response.status_code in (400, 422), (path, name, response.text)
                refused(response, (400, 422))
    for text in INJECTIONS + TRAVERSALS:
        for path in ("/api/v1/images/{}", "/api/v1/images/{}/sbom", "/api/v1/recommendations/{}"):
            response = owner.get(path.format(text.replace("/", "%2F")))
            assert response.status_code in (404, 422), (path, text, response.text)
    assert {path: owner.get(path).json()["total"] for path in filters} == counts
    assert center.anonymous().get("/static/../../../../etc/passwd").status_code == 404
    assert center.anonymous().get("/static/%2e%2e/%2e%2e/etc/passwd").status_code == 404


# -- property-based -------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)
FIELDS = st.sampled_from(
    ["schema", "kind", "produced_at", "tool", "asset", "rules", "results", "host",
     "workloads", "alerts", "database", "inventory", "summary", "warnings", "decisions"]
)  # fmt: skip


def envelope_like() -> st.SearchStrategy[dict[str, Any]]:
    """Objects shaped like an envelope: the right schema id and kind (most of the time),
    the real field names with arbitrary values."""
    return st.fixed_dictionaries(
        {
            "schema": st.sampled_from([SCHEMA_ID, SCHEMA_ID, "x"]),
            "kind": st.sampled_from(
                ["host-audit", "k8s-scan", "alerts", "image-scan", "admission", "?"]
            ),
            "produced_at": st.text(max_size=30),
            "tool": st.fixed_dictionaries({"version": st.text(max_size=10)}),
            "asset": st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["host", "cluster", "image", "pod"]),
                    "id": st.text(max_size=40),
                    "name": st.text(max_size=40),
                }
            ),
        }
    ).flatmap(
        lambda base: st.dictionaries(FIELDS, JSON_VALUES, max_size=4).map(
            lambda extra: {**base, **extra}
        )
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_arbitrary_input_never_fails_the_server(center: Center) -> None:
    client = center.client("contributor")

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(document=JSON_VALUES | envelope_like())
    def any_json(document: Any) -> None:
        response = send(client, json.dumps(document).encode())
        assert response.status_code < 500, response.text
        assert response.status_code in (200, 201, 403, 409, 422), response.text

    @settings(
        max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(body=st.binary(max_size=2000))
    def any_bytes(body: bytes) -> None:
        response = client.post(INGEST, content=body, headers=JSON)
        assert response.status_code in (400, 422), response.text

    any_json()
    any_bytes()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_arbitrary_envelopes_never_fail_postgres(center: Center) -> None:
    client = center.client("contributor")

    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(document=envelope_like())
    def any_envelope(document: Any) -> None:
        response = send(client, json.dumps(document).encode())
        assert response.status_code in (200, 201, 403, 409, 422), response.text

    any_envelope()


def test_the_corpus_helpers_are_sound() -> None:
    assert _jsonpath(("results", 0, "rule")) == "$.results[0].rule"
    assert list(_paths({"a": [{"b": 1}, {"b": 2}]})) == [
        (("a",), [{"b": 1}, {"b": 2}]),
        (("a", 0), {"b": 1}),
        (("a", 0, "b"), 1),
    ]
    assert msgspec.json.decode(json.dumps(_set({"a": {"b": 1}}, ("a", "b"), 2))) == {"a": {"b": 2}}


@both_backends
def test_hostile_admission_decisions(center: Center, contributor: TestClient) -> None:
    """Admission envelopes sent by a cluster's webhook: a uid twice in one upload is stored
    once, a time that is no time is stored as "now", over-long text is cut to its column;
    a decision of the wrong shape or for a host is refused naming the problem, and stores
    nothing."""
    owner = center.client("owner")
    before = owner.get("/api/v1/admission-decisions", params={"cluster": "shop"})
    assert before.status_code == 200 and before.json() == []
    refused(send(contributor, admission(decision("a", violations="no list"))), 422,
            "violations")  # fmt: skip
    refused(send(contributor, admission(decision("a", allowed="yes"))), 422, "allowed")
    refused(send(contributor, admission({"uid": "no-time"})), 422, "time")
    wrong_asset = admission(decision("a"))
    wrong_asset["asset"] = {"type": "host", "id": "h", "name": "h"}
    refused(send(contributor, wrong_asset), 422, "cluster")
    assert owner.get("/api/v1/admission-decisions", params={"cluster": "shop"}).json() == []

    long_text = "x" * 5000
    batch = admission(
        decision("dup"), decision("dup", name="second copy"),
        decision("odd", time="yesterday-ish", ms=1e308, user=long_text, name=long_text,
                 kind="K" * 500, violations=["v" * 10_000] * 3),
    )  # fmt: skip
    answer = send(contributor, batch)
    assert answer.status_code in (200, 201), answer.text
    assert send(contributor, batch).status_code in (200, 201)  # the same batch again
    stored = owner.get("/api/v1/admission-decisions", params={"cluster": "shop"}).json()
    assert sorted(d["uid"] for d in stored) == ["dup", "odd"]
    odd = next(d for d in stored if d["uid"] == "odd")
    assert len(odd["user"]) == 300 and len(odd["kind"]) == 100
    assert odd["time"].startswith("20")  # "now", not the text sent


@both_backends
def test_hostile_node_audits(center: Center, contributor: TestClient) -> None:
    """Node audits: details beyond their bounds, a role that is none, a score that is no
    percentage, an asset of another type than the kind is about (or a node's asset in
    another kind) are refused naming the problem, and store nothing."""
    owner = center.client("owner")
    before = snapshot(owner)
    many = {f"component-{i}": "x" for i in range(65)}
    cases = [
        (("node", "api_server"), "h" * 501, "$.node.api_server"),
        (("node", "layout"), "k" * 41, "$.node.layout"),
        (("node", "benchmark"), "b" * 41, "$.node.benchmark"),
        (("node", "error"), "e" * 4001, "$.node.error"),
        (("node", "role"), "cluster-admin", "$.node.role"),
        (("node", "score_percent"), 100.5, "$.node.score_percent"),
        (("node", "score_percent"), -3, "$.node.score_percent"),
        (("node", "components"), many, "$.node.components"),
        (("node", "components"), {"kubelet": "p" * 1001}, "$.node.components[...]"),
        (("node", "components"), {"k" * 1001: "kubelet process 1"}, "$.node.components[...]"),
        (("node", "components"), {"kubelet": 812}, "$.node.components[...]"),
        (("node", "components"), ["kubelet"], "$.node.components"),
        (("node",), "control-plane", "$.node"),
        (("asset", "attributes"), {"cluster": "c" * 296}, "$.asset.attributes.cluster"),
        (("asset", "attributes"), {"cluster": "shop", "role": "root"},
         "$.asset.attributes.role"),
        (("asset", "attributes"), {"layout": "l" * 41}, "$.asset.attributes.layout"),
    ]  # fmt: skip
    for path, value, name in cases:
        refused(send(contributor, _set(node(), path, value)), 422, name)
    nul = _set(node(), ("node", "components"), {"kubelet\u0000": "x"})
    refused(send(contributor, nul), 422, "at `$.node.components`", "NUL")
    for asset_type in ("host", "image", "cluster"):
        refused(send(contributor, _set(node(), ("asset", "type"), asset_type)), 422,
                "node audits are stored for a node asset only")  # fmt: skip
    for document in (host(), cluster(), alerts(), json.loads(encode(envelopes.demo_sbom()))):
        refused(send(contributor, _set(document, ("asset", "type"), "node")), 422,
                "a node asset comes in node-audit envelopes only")  # fmt: skip
    refused(send(contributor, {**node(), "asset": {"type": "robot", "id": "r", "name": "r"}}),
            422, "$.asset.type")  # fmt: skip
    assert snapshot(owner) == before
    # in bounds, however odd: stored, the cluster found by its name
    odd = _set(node(), ("node", "components"), {"x" * 1000: "y" * 1000})
    odd["node"]["score_percent"] = 0
    odd["asset"]["attributes"] = {"cluster": "c" * 295}  # name:NAME is as long as an id
    assert send(contributor, odd).status_code == 201
    (stored,) = owner.get("/api/v1/nodes").json()["items"]
    assert stored["cluster"] == "c" * 295 and stored["score_percent"] == 0
    (made,) = owner.get("/api/v1/clusters").json()["items"]
    assert made["key"] == "name:" + "c" * 295
