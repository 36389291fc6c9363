"""The webhook over real HTTPS: AdmissionReview v1 and v1beta1 in, verdicts out; warnings,
audit mode, exemptions, failure policy, timeout, bad input, health and metrics."""

from __future__ import annotations

import json
import ssl
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.admission.review import ReviewError, parse_review
from seawall.policy.builtin import POD, BuiltinCheck, CheckContext, Violation
from seawall.policy.engine import PolicyEngine
from seawall.policy.objects import KubeObject
from seawall.policy.settings import PolicySettings
from tests.admission.conftest import StartWebhook

PRIVILEGED = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "priv", "namespace": "team"},
    "spec": {
        "containers": [
            {"name": "app", "image": "nginx:1.27", "securityContext": {"privileged": True}}
        ]
    },
}
ONLY_PRIVILEGED = PolicySettings(
    disabled_rules=tuple(
        r
        for r in __import__("seawall.rules", fromlist=["catalog"]).catalog("k8s")
        if r not in ("pss-baseline-privileged", "bp-latest-tag")
    ),
    actions={"bp-latest-tag": "warn"},
)


def review(
    obj: dict[str, Any] | None,
    api_version: str = "admission.k8s.io/v1",
    operation: str = "CREATE",
    namespace: str = "team",
    **extra: Any,
) -> dict[str, Any]:
    kind = (obj or extra.get("oldObject") or {}).get("kind", "Pod")
    return {
        "apiVersion": api_version,
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": "", "version": "v1", "kind": kind},
            "operation": operation,
            "namespace": namespace,
            "userInfo": {"username": "alice"},
            "object": obj,
            **extra,
        },
    }


def post(webhook: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = webhook.client.post("/validate", json=body)
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["kind"] == "AdmissionReview"
    assert document["apiVersion"] == body["apiVersion"]
    assert document["response"]["uid"] == body["request"]["uid"]
    return document["response"]


@pytest.mark.parametrize("api_version", ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"])
def test_privileged_pod_is_denied_with_policy_and_fix(
    start_webhook: StartWebhook, api_version: str
) -> None:
    webhook = start_webhook(PolicyEngine(ONLY_PRIVILEGED))
    response = post(webhook, review(PRIVILEGED, api_version))
    assert response["allowed"] is False
    message = response["status"]["message"]
    assert "[pss-baseline-privileged]" in message
    assert '"path":"/spec/containers/0/securityContext/privileged","value":false' in message
    assert response["status"]["code"] == 403


def test_compliant_pod_is_allowed_and_warn_actions_become_warnings(
    start_webhook: StartWebhook,
) -> None:
    webhook = start_webhook(PolicyEngine(ONLY_PRIVILEGED))
    pod = {**PRIVILEGED, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}
    response = post(webhook, review(pod))
    assert response["allowed"] is True
    assert any("[bp-latest-tag]" in w for w in response["warnings"])


def test_audit_mode_allows_and_records_what_it_would_deny(start_webhook: StartWebhook) -> None:
    webhook = start_webhook(PolicyEngine(ONLY_PRIVILEGED), mode="audit")
    response = post(webhook, review(PRIVILEGED))
    assert response["allowed"] is True and "warnings" not in response
    (entry,) = webhook.decisions()
    assert entry["would_deny"] is True and entry["mode"] == "audit"
    assert any("pss-baseline-privileged" in v for v in entry["violations"])


def test_every_decision_is_recorded(start_webhook: StartWebhook) -> None:
    webhook = start_webhook(PolicyEngine(ONLY_PRIVILEGED))
    post(webhook, review(PRIVILEGED))
    post(webhook, review({**PRIVILEGED, "spec": {"containers": []}}))
    entries = webhook.decisions()
    assert [e["allowed"] for e in entries] == [False, True]
    assert entries[0]["user"] == "alice" and entries[0]["kind"] == "Pod"
    assert entries[0]["namespace"] == "team" and entries[0]["name"] == "priv"


def test_exempt_namespace_passes(start_webhook: StartWebhook) -> None:
    settings = PolicySettings(exempt_namespaces=("kube-system",))
    webhook = start_webhook(PolicyEngine(settings))
    pod = {**PRIVILEGED, "metadata": {"name": "priv", "namespace": "kube-system"}}
    assert post(webhook, review(pod, namespace="kube-system"))["allowed"] is True


def test_namespace_comes_from_the_request_when_the_object_has_none(
    start_webhook: StartWebhook,
) -> None:
    settings = PolicySettings(exempt_namespaces=("kube-system",))
    webhook = start_webhook(PolicyEngine(settings))
    pod = {**PRIVILEGED, "metadata": {"name": "priv"}}
    assert post(webhook, review(pod, namespace="kube-system"))["allowed"] is True


def test_unknown_kinds_pass_untouched(start_webhook: StartWebhook) -> None:
    webhook = start_webhook()
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default"},
        "spec": {"containers": [{"securityContext": {"privileged": True}}]},
    }
    response = post(webhook, review(widget))
    assert response["allowed"] is True and "warnings" not in response


def test_delete_is_not_judged_by_workload_policies(start_webhook: StartWebhook) -> None:
    webhook = start_webhook(PolicyEngine(ONLY_PRIVILEGED))
    response = post(webhook, review(None, operation="DELETE", oldObject=PRIVILEGED))
    assert response["allowed"] is True


def _engine_with(function: Any) -> PolicyEngine:
    engine = PolicyEngine(
        PolicySettings(
            disabled_rules=tuple(__import__("seawall.rules", fromlist=["catalog"]).catalog("k8s"))
        )
    )
    engine.checks.append(BuiltinCheck("pss-baseline-privileged", frozenset({POD}), function))
    return engine


def _broken(obj: KubeObject, context: CheckContext) -> Iterator[Violation]:
    raise ZeroDivisionError("a bug in a policy")


def _slow(obj: KubeObject, context: CheckContext) -> Iterator[Violation]:
    time.sleep(0.5)
    return iter(())


@pytest.mark.parametrize(("policy", "allowed"), [("fail", False), ("ignore", True)])
def test_failure_policy_decides_when_a_policy_errors(
    start_webhook: StartWebhook, policy: str, allowed: bool
) -> None:
    webhook = start_webhook(_engine_with(_broken), failure_policy=policy)
    response = post(webhook, review(PRIVILEGED))
    assert response["allowed"] is allowed
    text = response["status"]["message"] if not allowed else " ".join(response["warnings"])
    assert "ZeroDivisionError" in text and "pss-baseline-privileged" in text
    assert webhook.decisions()[0]["errors"]


@pytest.mark.parametrize(("policy", "allowed"), [("fail", False), ("ignore", True)])
def test_failure_policy_decides_on_timeout(
    start_webhook: StartWebhook, policy: str, allowed: bool
) -> None:
    webhook = start_webhook(_engine_with(_slow), failure_policy=policy, timeout=0.05)
    response = post(webhook, review(PRIVILEGED))
    assert response["allowed"] is allowed
    assert "more than 0.05s" in json.dumps(response)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"kind": "Pod"}', "kind must be AdmissionReview"),
        (b'{"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v2"}', "apiVersion"),
        (b'{"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1"}', "request is missing"),
        (b'{"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": {}}', "uid"),
        (
            b'{"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", '
            b'"request": {"uid": "1", "object": 3}}',
            "object",
        ),
    ],
)
def test_malformed_reviews_get_a_400_with_a_message(
    start_webhook: StartWebhook, body: bytes, message: str
) -> None:
    webhook = start_webhook()
    response = webhook.client.post(
        "/validate", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_oversized_request_is_refused(start_webhook: StartWebhook) -> None:
    webhook = start_webhook(max_request_bytes=10_000)
    big = {**PRIVILEGED, "metadata": {"name": "x", "annotations": {"a": "x" * 20_000}}}
    response = webhook.client.post("/validate", json=review(big))
    assert response.status_code == 413
    assert "exceeds the limit" in response.json()["error"]
    # the server is still healthy afterwards
    assert webhook.client.get("/healthz").status_code == 200


def test_health_and_metrics(start_webhook: StartWebhook) -> None:
    webhook = start_webhook(PolicyEngine(ONLY_PRIVILEGED))
    assert webhook.client.get("/healthz").text == "ok\n"
    post(webhook, review(PRIVILEGED))
    webhook.client.post("/validate", content=b"{", headers={"Content-Type": "application/json"})
    metrics = webhook.client.get("/metrics").text
    assert 'seawall_admission_requests_total{decision="denied"} 1' in metrics
    assert 'seawall_admission_requests_total{decision="bad_request"} 1' in metrics
    assert (
        'seawall_admission_violations_total{rule="pss-baseline-privileged",action="deny"} 1'
        in metrics
    )
    assert "seawall_admission_duration_seconds_count 1" in metrics


def test_tls_is_verified_by_the_client(start_webhook: StartWebhook, tmp_path: Path) -> None:
    from seawall.admission.certs import issue

    webhook = start_webhook()
    other_ca = issue(["localhost"]).ca_cert
    (tmp_path / "other.crt").write_bytes(other_ca)
    context = ssl.create_default_context(cafile=str(tmp_path / "other.crt"))
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{webhook.url}/healthz", verify=context)
    assert webhook.client.get("/healthz").status_code == 200  # survives the failed handshake


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=300)
    | st.builds(
        lambda v: json.dumps(v).encode(),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=12),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(
                        ["kind", "apiVersion", "request", "uid", "object", "operation", "x"]
                    ),
                    inner,
                    max_size=5,
                )
            ),
            max_leaves=15,
        ),
    )
)
def test_parse_review_accepts_or_explains(body: bytes) -> None:
    try:
        parse_review(body)
    except ReviewError as exc:
        assert str(exc)


def test_real_admission_reviews_from_the_gatekeeper_samples(start_webhook: StartWebhook) -> None:
    """The library's update.yaml is a real AdmissionReview (v1beta1)."""
    from tests.policy.support import GATEKEEPER

    document = yaml.safe_load(
        (
            GATEKEEPER
            / "pod-security-policy/privileged-containers/samples"
            / "psp-privileged-container/update.yaml"
        ).read_text()
    )
    document["request"]["uid"] = "0df28fbd-5f5f-4a4e-8b65-f5f5b8b5f5b5"
    webhook = start_webhook(PolicyEngine(ONLY_PRIVILEGED))
    response = post(webhook, document)
    assert response["allowed"] is False  # built-ins judge the new object on UPDATE too


def test_rego_and_cel_templates_over_https_from_many_threads(start_webhook: StartWebhook) -> None:
    """regorus engines are bound to their thread: concurrent requests must still work."""
    from concurrent.futures import ThreadPoolExecutor

    from seawall.policy.library import PolicyLibrary
    from tests.policy.support import GATEKEEPER

    sample = GATEKEEPER / "pod-security-policy/privileged-containers"
    library = PolicyLibrary.load(
        [
            str(sample / "template.yaml"),
            str(sample / "samples/psp-privileged-container/constraint.yaml"),
        ]
    )
    engine = PolicyEngine(library=library, builtin=False)
    webhook = start_webhook(engine)

    def one(_: int) -> dict[str, Any]:
        with httpx.Client(base_url=webhook.url, verify=webhook.context) as client:
            body = review(PRIVILEGED)
            return client.post("/validate", json=body).json()["response"]

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(one, range(24)))
    assert all(r["allowed"] is False for r in responses)
    assert all(
        "K8sPSPPrivilegedContainer/psp-privileged-container" in r["status"]["message"]
        for r in responses
    )


def test_deeply_nested_review_is_a_400(start_webhook: StartWebhook) -> None:
    webhook = start_webhook()
    body = (
        b'{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"1",'
        b'"object":' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    )
    response = webhook.client.post(
        "/validate", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "nests too deeply" in response.json()["error"]
    assert webhook.client.get("/healthz").status_code == 200
