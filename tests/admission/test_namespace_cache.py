"""Gatekeeper namespaceSelectors at admission: the webhook's Namespace cache (list, then a
watch) against the local API server; the same verdicts as a manifest scan and a cluster
listing; a label change delivered by a watch event changes the next decision; without the
API the failure policy decides, and the decision log says why."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seawall.admission.namespaces import NamespaceCache, _slim
from seawall.policy.cluster import list_cluster
from seawall.policy.engine import PolicyEngine
from seawall.policy.kubeapi import connect
from seawall.policy.library import PolicyLibrary
from seawall.policy.manifests import load_manifests
from seawall.policy.objects import KubeObject
from tests.admission.conftest import StartWebhook, Webhook, eventually, serving
from tests.policy.apiserver import FakeApi, api_server
from tests.policy.support import FIXTURES, GATEKEEPER

RULE = "K8sRequiredLabels/prod-workloads-need-owner"
NAMESPACE_RULE = "K8sRequiredLabels/prod-namespaces-need-owner"
WORKLOADS = ("Deployment", "Rollout", "DeploymentConfig")


def engine() -> PolicyEngine:
    return PolicyEngine(
        library=PolicyLibrary.load(
            [
                str(GATEKEEPER / "general" / "requiredlabels" / "template.yaml"),
                str(FIXTURES / "namespace-selector" / "constraints.yaml"),
            ]
        ),
        builtin=False,
    )


def workloads() -> list[KubeObject]:
    return [o for o in load_manifests([str(FIXTURES / "workloads.yaml")]) if o.kind in WORKLOADS]


@pytest.fixture
def cache(api: FakeApi) -> Iterator[NamespaceCache]:
    namespaces = NamespaceCache(connect(api.kubeconfig), backoff=(0.05, 0.2))
    namespaces.start()
    assert namespaces.wait_synced(20)
    yield namespaces
    namespaces.stop()


def review(obj: Mapping[str, Any], namespace: str = "", operation: str = "CREATE") -> Any:
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "operation": operation,
            "namespace": namespace,
            "object": dict(obj),
        },
    }


def admit(webhook: Webhook, obj: KubeObject) -> dict[str, Any]:
    response = webhook.client.post("/validate", json=review(obj.raw, obj.namespace))
    result: dict[str, Any] = response.json()["response"]
    return result


def logged_errors(webhook: Webhook) -> list[str]:
    """Every error the decision log recorded."""
    return [str(e) for entry in webhook.decisions() for e in cast(list[Any], entry["errors"])]


def denied_names(findings: list[Any]) -> set[str]:
    return {f.resource.name for f in findings if f.rule.id == RULE}


def test_scan_cluster_and_webhook_agree_on_namespace_selectors(
    api: FakeApi, cache: NamespaceCache, start_webhook: StartWebhook
) -> None:
    from_scan = denied_names(engine().findings(load_manifests([str(FIXTURES / "workloads.yaml")])))
    assert from_scan == {"web", "canary"}  # shop is tier=prod; lab (legacy) is tier=dev
    listed = list(list_cluster(api.kubeconfig, wanted=engine().cares_about, warn=print))
    assert denied_names(engine().findings(listed)) == from_scan
    webhook = start_webhook(engine())
    webhook.server.decider.namespaces = cache
    from_webhook = {o.name for o in workloads() if not admit(webhook, o)["allowed"]}
    assert from_webhook == from_scan
    assert not logged_errors(webhook)


def test_a_label_change_from_the_watch_changes_the_next_decision(
    api: FakeApi, cache: NamespaceCache, start_webhook: StartWebhook
) -> None:
    webhook = start_webhook(engine())
    webhook.server.decider.namespaces = cache
    (legacy,) = [o for o in workloads() if o.name == "legacy"]
    assert admit(webhook, legacy)["allowed"]
    lab = {"metadata": {"name": "lab", "labels": {"tier": "prod"}}}
    api.push("MODIFIED", lab)
    eventually(
        lambda: (cache.lookup("lab")[0] or {}).get("metadata", {}).get("labels") == {"tier": "prod"}
    )
    response = admit(webhook, legacy)
    assert not response["allowed"] and RULE in response["status"]["message"]
    api.push("DELETED", lab)
    eventually(lambda: cache.lookup("lab")[0] is None)
    response = admit(webhook, legacy)  # the namespace is gone: unknown, failure policy
    assert not response["allowed"] and "lab is not in the namespace cache" in str(response)


def test_an_expired_watch_lists_again(api: FakeApi, cache: NamespaceCache) -> None:
    def lists() -> int:
        return api.requests.count("/api/v1/namespaces?limit=500")

    assert lists() == 1
    # Wait until the watch is being served (not just requested), so the expiry reaches it.
    eventually(lambda: bool(api.watchers))
    api.expire()  # the watch gets 410 Gone: the cache must list again, then watch again
    eventually(lambda: lists() >= 2)
    api.push("ADDED", {"metadata": {"name": "late", "labels": {"tier": "prod"}}})
    eventually(lambda: cache.lookup("late")[0] is not None)


def test_the_cache_is_bounded(api: FakeApi) -> None:
    namespaces = NamespaceCache(connect(api.kubeconfig), max_namespaces=1)
    namespaces.start()
    try:
        assert namespaces.wait_synced(20)
        known = [n for n in ("shop", "lab") if namespaces.lookup(n)[0] is not None]
        assert len(known) == 1
        (missing,) = {"shop", "lab"} - set(known)
        assert "full" in namespaces.lookup(missing)[1]
        # Only what selectors read is kept.
        found = namespaces.lookup(known[0])[0]
        assert found is not None and set(found["metadata"]) <= {"name", "uid", "labels"}
    finally:
        namespaces.stop()


@pytest.mark.parametrize("failure_policy", ["fail", "ignore"])
def test_api_unavailable_goes_to_the_failure_policy(
    tmp_path: Path, start_webhook: StartWebhook, failure_policy: str
) -> None:
    with api_server(tmp_path) as server:
        kubeconfig = server.kubeconfig  # the server stops here: the API is unreachable
    namespaces = NamespaceCache(connect(kubeconfig), backoff=(0.05, 0.2))
    namespaces.start()
    try:
        eventually(lambda: "unavailable" in namespaces.lookup("shop")[1])
        webhook = start_webhook(engine(), failure_policy=failure_policy)
        webhook.server.decider.namespaces = namespaces
        (web,) = [o for o in workloads() if o.name == "web"]
        response = admit(webhook, web)
    finally:
        namespaces.stop()
    assert response["allowed"] is (failure_policy == "ignore")
    assert len(webhook.decisions()) == 1
    (error,) = logged_errors(webhook)
    assert RULE in error and "the Kubernetes API is unavailable" in error


def test_without_api_access_the_failure_policy_decides_and_the_log_says_why(
    start_webhook: StartWebhook,
) -> None:
    webhook = start_webhook(engine(), failure_policy="ignore")
    (web,) = [o for o in workloads() if o.name == "web"]
    response = admit(webhook, web)
    assert response["allowed"] and "no Kubernetes API access" in response["warnings"][0]
    assert len(webhook.decisions()) == 1
    (error,) = logged_errors(webhook)
    assert "namespaceSelector needs the labels of namespace shop" in error


def test_a_namespace_under_review_is_judged_on_its_own_labels(
    start_webhook: StartWebhook,
) -> None:
    webhook = start_webhook(engine())  # no API access needed for a Namespace itself
    prod = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "new"}}
    prod["metadata"]["labels"] = {"tier": "prod"}  # type: ignore[index]
    response = webhook.client.post("/validate", json=review(prod)).json()["response"]
    assert not response["allowed"] and NAMESPACE_RULE in response["status"]["message"]
    prod["metadata"]["labels"] = {"tier": "prod", "owner": "shop-team"}  # type: ignore[index]
    response = webhook.client.post("/validate", json=review(prod)).json()["response"]
    assert response["allowed"]
    assert not logged_errors(webhook)


def test_serve_with_a_kubeconfig_watches_namespaces(api: FakeApi, tmp_path: Path) -> None:
    with serving(
        tmp_path, "--kubeconfig", str(api.kubeconfig), "--no-builtin",
        "--policy", str(GATEKEEPER / "general" / "requiredlabels" / "template.yaml"),
        "--policy", str(FIXTURES / "namespace-selector" / "constraints.yaml"),
    ) as (printed, client):  # fmt: skip
        assert "listed 2 namespaces" in printed
        verdicts = {
            o.name: client.post("/validate", json=review(o.raw, o.namespace)).json()["response"][
                "allowed"
            ]
            for o in workloads()
        }
    assert verdicts == {"web": False, "canary": False, "legacy": True}


def test_in_cluster_outside_a_pod_is_one_error_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from seawall.admission.certs import issue

    certs = issue(["localhost"])
    (tmp_path / "tls.crt").write_bytes(certs.cert)
    (tmp_path / "tls.key").write_bytes(certs.key)
    result = subprocess.run(
        [
            *(sys.executable, "-m", "seawall", "admission", "serve", "--in-cluster"),
            *("--cert", str(tmp_path / "tls.crt"), "--key", str(tmp_path / "tls.key")),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: in-cluster configuration")
    assert "Traceback" not in result.stderr


def test_malformed_watch_events_do_not_break_the_cache(api: FakeApi, cache: NamespaceCache) -> None:
    eventually(lambda: bool(api.watchers))
    for event in (
        {"type": "MODIFIED", "object": "not an object"},
        {"type": "ADDED", "object": {"metadata": {"name": ""}}},
        {"type": "ADDED", "object": {"metadata": ["x"]}},
        {"type": "SURPRISE"},
        {"object": None},
        {"type": "ERROR", "object": {"kind": "Status", "code": 500, "message": "etcd hiccup"}},
    ):
        api.send(event)
    # The ERROR ends that watch; the cache resumes from its last resourceVersion.
    api.push("ADDED", {"metadata": {"name": "after", "labels": {"tier": "dev"}}})
    eventually(lambda: cache.lookup("after")[0] is not None)
    assert cache.lookup("shop")[0] is not None
    assert api.requests.count("/api/v1/namespaces?limit=500") == 1  # no relist needed


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["metadata", "name", "labels", "x"]), children, max_size=3
        )
    ),
    max_leaves=15,
)


@given(JSON)
def test_slim_keeps_only_what_selectors_read(raw: Any) -> None:
    if not isinstance(raw, dict):
        raw = {"metadata": raw}
    slim = _slim(raw)
    assert slim["kind"] == "Namespace" and set(slim["metadata"]) <= {
        "name",
        "uid",
        "labels",
        "annotations",
    }


def test_in_cluster_configuration_reads_the_service_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in the Deployment ``admission install`` writes: token and CA at the service
    account's paths, the server from KUBERNETES_SERVICE_HOST and _PORT, HTTPS verified."""
    import ssl

    from seawall.admission.certs import issue
    from tests.policy.apiserver import TOKEN

    certs = issue(["127.0.0.1"])
    (tmp_path / "tls.crt").write_bytes(certs.cert)
    (tmp_path / "tls.key").write_bytes(certs.key)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(TOKEN)
    (account / "ca.crt").write_bytes(certs.ca_cert)
    (account / "namespace").write_text("seawall-system")
    with api_server(tmp_path, tls=tls) as server:
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(server.port))
        namespaces = NamespaceCache(connect(in_cluster=True, service_account=account))
        namespaces.start()
        try:
            assert namespaces.wait_synced(20)
            found = namespaces.lookup("shop")[0]
            assert found is not None and found["metadata"]["labels"]["tier"] == "prod"
        finally:
            namespaces.stop()
