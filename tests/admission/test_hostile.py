"""The webhook against hostile clients and hostile policies, over real HTTPS: request
smuggling shapes, wrong media types, oversized headers, slow clients, too many connections
or reviews; a template that allocates without bound or runs for minutes, a catastrophic
regex. After each, the server still answers /healthz and the next review."""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.policy.builtin import POD, BuiltinCheck, CheckContext, Violation
from seawall.policy.engine import PolicyEngine
from seawall.policy.gatekeeper.budget import Budget
from seawall.policy.objects import KubeObject
from seawall.policy.settings import PolicySettings
from seawall.rules import catalog
from tests.admission.conftest import StartWebhook, Webhook
from tests.admission.test_webhook import post, review
from tests.policy.hostile import HUNGRY_REGO, OWNER_REGO, SLOW_REGO, constraint_template, library

POD_OBJECT = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "namespace": "team", "labels": {"owner": "alice"}},
    "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
}
NO_BUILTINS = PolicySettings(disabled_rules=tuple(catalog("k8s")))


def connect(webhook: Webhook) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", webhook.server.port), timeout=10)
    return webhook.context.wrap_socket(raw, server_hostname="localhost")


def exchange(webhook: Webhook, request: bytes) -> tuple[int, bytes]:
    """Send raw bytes, read until the server closes or answers; the status (0 when it closed
    without one) and body."""
    with connect(webhook) as tls:
        tls.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < _length(
            received
        ):
            chunk = tls.recv(65536)
            if not chunk:
                break
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return (int(head.split(b" ", 2)[1]) if head else 0), body


def _length(received: bytes) -> int:
    for line in received.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def raw_post(headers: list[tuple[str, str]], body: bytes = b"{}") -> bytes:
    lines = ["POST /validate HTTP/1.1", "Host: localhost", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def still_healthy(webhook: Webhook) -> None:
    assert webhook.client.get("/healthz").status_code == 200
    assert post(webhook, review(POD_OBJECT))["allowed"] is True


JSON = ("Content-Type", "application/json")


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ([JSON, ("Content-Length", "2"), ("Content-Length", "2")], 400, "more than one"),
        ([JSON, ("Content-Length", "2"), ("Content-Length", "7")], 400, "more than one"),
        ([JSON, ("Content-Length", "2, 2")], 400, "not a number"),
        ([JSON, ("Content-Length", "²")], 400, "not a number"),
        ([JSON, ("Content-Length", "2"), ("Transfer-Encoding", "chunked")], 400, "together"),
        ([JSON, ("Transfer-Encoding", "chunked")], 411, "Content-Length is required"),
        ([("Content-Type", "text/plain"), ("Content-Length", "2")], 415, "application/json"),
        ([("Content-Length", "2")], 415, "application/json"),
        ([("Content-Type", "application/jsonx"), ("Content-Length", "2")], 415, "json"),
    ],
)
def test_requests_that_could_be_smuggled_or_mistyped_are_refused(
    start_webhook: StartWebhook, headers: list[tuple[str, str]], status: int, message: str
) -> None:
    webhook = start_webhook(PolicyEngine(NO_BUILTINS))
    code, body = exchange(webhook, raw_post(headers))
    assert code == status
    assert message in msgspec.json.decode(body)["error"]
    still_healthy(webhook)


def test_json_with_a_charset_is_accepted(start_webhook: StartWebhook) -> None:
    webhook = start_webhook(PolicyEngine(NO_BUILTINS))
    body = msgspec.json.encode(review(POD_OBJECT))
    headers = [
        ("Content-Type", "Application/JSON; charset=utf-8"),
        ("Content-Length", str(len(body))),
    ]
    assert exchange(webhook, raw_post(headers, body))[0] == 200


HEADER_NAMES = ["Content-Length", "content-length", "Transfer-Encoding", "Content-Type",
                "Expect", "Connection", "X-Other"]  # fmt: skip
HEADER_VALUES = st.one_of(
    st.sampled_from(["0", "2", "-1", "1e3", "chunked", "application/json", "close", ""]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
)


def test_arbitrary_headers_get_an_answer_or_a_close_never_a_crash(
    start_webhook: StartWebhook,
) -> None:
    webhook = start_webhook(PolicyEngine(NO_BUILTINS), read_timeout=0.3)

    @settings(max_examples=100, deadline=None)
    @given(
        st.lists(st.tuples(st.sampled_from(HEADER_NAMES), HEADER_VALUES), max_size=6),
        st.binary(max_size=40),
    )
    def check(headers: list[tuple[str, str]], body: bytes) -> None:
        code, _ = exchange(webhook, raw_post(headers, body))
        assert code in (0, 400, 411, 413, 415, 417, 431), code

    check()
    still_healthy(webhook)


def test_oversized_headers_get_a_431(start_webhook: StartWebhook) -> None:
    webhook = start_webhook(PolicyEngine(NO_BUILTINS))
    headers = [JSON, ("Content-Length", "2")] + [(f"X-Pad-{i}", "x" * 1000) for i in range(40)]
    assert exchange(webhook, raw_post(headers))[0] == 431
    still_healthy(webhook)


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_slow_client_is_cut_off(start_webhook: StartWebhook, part: str) -> None:
    webhook = start_webhook(PolicyEngine(NO_BUILTINS), read_timeout=1.0)
    body = b" " * 100 + b"{}"
    request = raw_post([JSON, ("Content-Length", str(len(body)))], body)
    head, _, rest = request.partition(b"\r\n\r\n")
    with connect(webhook) as tls:
        started = time.monotonic()
        if part == "body":
            tls.sendall(head + b"\r\n\r\n")  # the headers at once, then the body slowly
        # A byte every 0.2 s: each recv is quick, the request as a whole is not.
        for byte in request if part == "headers" else rest:
            if _closed(tls):
                break
            tls.sendall(bytes([byte]))
            time.sleep(0.2)
        else:
            pytest.fail("the slow request was never cut off")
        assert 1.0 <= time.monotonic() - started < 4
    still_healthy(webhook)


def _closed(tls: ssl.SSLSocket) -> bool:
    """Whether the server closed ``tls``. Readable is not enough: TLS 1.3 session tickets
    arrive after the handshake, with no application data behind them."""
    if not select.select([tls], [], [], 0)[0]:
        return False
    tls.settimeout(0.05)
    try:
        return tls.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True
    finally:
        tls.settimeout(10)


def test_connections_beyond_the_cap_are_closed_at_once(start_webhook: StartWebhook) -> None:
    webhook = start_webhook(PolicyEngine(NO_BUILTINS), max_connections=2)
    held = [connect(webhook), connect(webhook)]
    try:
        time.sleep(0.2)
        with pytest.raises((OSError, ssl.SSLError)):
            extra = connect(webhook)
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert extra.recv(100) != b""  # closed: EOF, or a reset on the handshake
        assert webhook.server.metrics.render().count("refused_connection") == 1
    finally:
        for connection in held:
            connection.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the held connections' threads end
        try:
            still_healthy(webhook)
            break
        except Exception:
            time.sleep(0.1)
    still_healthy(webhook)


def _sleepy(obj: KubeObject, context: CheckContext) -> Iterator[Violation]:
    time.sleep(1)
    return iter(())


def test_reviews_beyond_the_cap_get_a_fast_503(start_webhook: StartWebhook) -> None:
    engine = PolicyEngine(NO_BUILTINS)
    engine.checks.append(BuiltinCheck("pss-baseline-privileged", frozenset({POD}), _sleepy))
    webhook = start_webhook(engine, max_in_flight=1)

    def one(_: int) -> int:
        with httpx.Client(base_url=webhook.url, verify=webhook.context) as client:
            return client.post("/validate", json=review(POD_OBJECT)).status_code

    with ThreadPoolExecutor(3) as pool:
        codes = sorted(pool.map(one, range(3)))
    assert codes[0] == 200 and 503 in codes
    assert webhook.client.get("/healthz").status_code == 200


def hostile_engine(budget: Budget) -> PolicyEngine:
    documents = [
        constraint_template("K8sHungry", HUNGRY_REGO, namespace="hostile"),
        constraint_template("K8sSlow", SLOW_REGO, namespace="hostile"),
        constraint_template(
            "K8sNameRegex",
            cel="object.metadata.name.matches('^([a-z0-9]+-?)+$')",
            namespace="hostile",
        ),
        constraint_template("K8sOwner", OWNER_REGO),
    ]
    return PolicyEngine(NO_BUILTINS, library=library(*documents), budget=budget)


def hostile_pod(name: str = "a" * 5000 + "!") -> dict[str, Any]:
    return {**POD_OBJECT, "metadata": {"name": name, "namespace": "hostile"}}


@pytest.mark.parametrize(("policy", "allowed"), [("fail", False), ("ignore", True)])
def test_a_template_over_its_memory_budget_gets_the_failure_policy(
    start_webhook: StartWebhook, policy: str, allowed: bool
) -> None:
    budget = Budget(timeout=5, memory_mb=128, workers=2)
    webhook = start_webhook(hostile_engine(budget), failure_policy=policy, timeout=2)
    response = post(webhook, review(hostile_pod(), namespace="hostile"))
    assert response["allowed"] is allowed
    text = " ".join(response["warnings"]) if allowed else response["status"]["message"]
    assert "K8sHungry/c exceeded its budget (memory: 128 MB)" in text
    assert "K8sSlow/c" in text  # stopped at the admission deadline
    still_healthy(webhook)


def test_health_and_benign_reviews_are_answered_while_hostile_ones_run(
    start_webhook: StartWebhook,
) -> None:
    webhook = start_webhook(hostile_engine(Budget(timeout=5, memory_mb=128, workers=3)), timeout=3)
    hostile = threading.Thread(
        target=lambda: post(webhook, review(hostile_pod(), namespace="hostile"))
    )
    hostile.start()
    try:
        time.sleep(0.3)  # the hostile review is being evaluated
        for _ in range(3):
            started = time.monotonic()
            assert webhook.client.get("/healthz").status_code == 200
            response = post(webhook, review(POD_OBJECT))
            assert response["allowed"] is True
            assert time.monotonic() - started < 2
    finally:
        hostile.join(30)
    assert not hostile.is_alive()
    still_healthy(webhook)
