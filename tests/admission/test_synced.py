"""Referential data at admission: the kinds a Gatekeeper Config or SyncSet names are listed
and watched from the (local, recorded) API server, and templates that read data.inventory
decide on what the cluster holds now."""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall.admission.synced import SyncedObjects, start_synced
from seawall.errors import InputError
from seawall.policy.discovery import ApiResource
from seawall.policy.engine import PolicyEngine
from seawall.policy.kubeapi import connect
from seawall.policy.library import PolicyLibrary
from seawall.policy.manifests import load_manifests
from tests.admission.conftest import StartWebhook, eventually, serving
from tests.admission.test_namespace_cache import admit, review
from tests.policy.apiserver import FakeApi
from tests.policy.support import FIXTURES

REFERENTIAL = FIXTURES / "referential"
INGRESS_CLASSES = "/apis/networking.k8s.io/v1/ingressclasses"
INGRESSES = ApiResource("networking.k8s.io", "v1", "ingresses", "Ingress", True)


def ingress_event(api: FakeApi, event_type: str, obj: dict) -> None:
    api.push(event_type, obj, INGRESSES.path, "Ingress", "networking.k8s.io/v1")


def _library() -> PolicyLibrary:
    return PolicyLibrary.load(
        [str(REFERENTIAL / "template-ingress-class.yaml"),
         str(REFERENTIAL / "samples" / "constraint-ingress-class.yaml"),
         str(REFERENTIAL / "samples" / "config-sync-ingressclasses.yaml")]
    )  # fmt: skip


def test_config_and_syncset_name_the_kinds_to_sync(tmp_path: Path) -> None:
    assert _library().sync == {
        ("networking.k8s.io", "v1", "IngressClass"),
        ("networking.k8s.io", "v1", "Ingress"),
        ("example.com", "v1", "Gadget"),
    }
    bad = tmp_path / "config.yaml"
    bad.write_text(
        "apiVersion: config.gatekeeper.sh/v1alpha1\nkind: Config\nmetadata: {name: config}\n"
        "spec: {sync: {syncOnly: [{group: apps, kind: Deployment}]}}\n"
    )
    with pytest.raises(InputError, match="needs a version and a kind"):
        PolicyLibrary.load([str(bad)])


def test_synced_objects_follow_the_watch(api: FakeApi) -> None:
    synced = SyncedObjects(connect(api.kubeconfig), [INGRESSES], backoff=(0.05, 0.2))
    synced.start()
    try:
        assert synced.wait_synced(20)
        recorded = synced.inventory()["namespace"]["shop"]["networking.k8s.io/v1"]["Ingress"]
        assert recorded["web"]["kind"] == "Ingress"  # list items carry no kind: set from discovery
        first = synced.inventory()
        assert synced.inventory() is first  # unchanged: the same document for every review
        ingress_event(api, "ADDED", {
            "metadata": {"name": "blog", "namespace": "shop",
                         "managedFields": [{"manager": "kubectl"}]},
            "spec": {"rules": [{"host": "blog.example.com"}]},
        })  # fmt: skip

        def ingresses() -> dict:
            return synced.inventory()["namespace"]["shop"]["networking.k8s.io/v1"]["Ingress"]

        eventually(lambda: "blog" in ingresses())
        assert "managedFields" not in ingresses()["blog"]["metadata"]
        ingress_event(api, "DELETED", {"metadata": {"name": "web", "namespace": "shop"}})
        eventually(lambda: "web" not in ingresses())
    finally:
        synced.stop()


def test_synced_objects_are_bounded(api: FakeApi) -> None:
    logged: list[str] = []
    synced = SyncedObjects(connect(api.kubeconfig), [INGRESSES], max_objects=1, log=logged.append)
    synced.start()
    try:
        assert synced.wait_synced(20)
        ingress_event(api, "ADDED", {"metadata": {"name": "blog", "namespace": "shop"}})
        eventually(lambda: any("more than 1 objects" in line for line in logged))
        kept = synced.inventory()["namespace"]["shop"]["networking.k8s.io/v1"]["Ingress"]
        assert list(kept) == ["web"]
    finally:
        synced.stop()


def test_admission_decides_on_what_the_cluster_holds_now(
    api: FakeApi, start_webhook: StartWebhook
) -> None:
    library = _library()
    logged: list[str] = []
    synced = start_synced(connect(api.kubeconfig), library.sync, logged.append)
    assert synced is not None
    assert any("Gadget is not synced" in line for line in logged)  # not served: left out
    webhook = start_webhook(PolicyEngine(library=library, builtin=False))
    webhook.server.decider.synced = synced
    (ingress,) = load_manifests([str(REFERENTIAL / "samples" / "ingress-shop.yaml")])
    try:
        denied = admit(webhook, ingress)
        assert not denied["allowed"] and "names IngressClass nginx" in str(denied)
        nginx = {"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}}
        api.push("ADDED", nginx, path=INGRESS_CLASSES, kind="IngressClass",
                 api_version="networking.k8s.io/v1")  # fmt: skip
        eventually(lambda: bool(synced.inventory()["cluster"]))
        assert admit(webhook, ingress)["allowed"]
        api.push("DELETED", nginx, path=INGRESS_CLASSES, kind="IngressClass",
                 api_version="networking.k8s.io/v1")  # fmt: skip
        eventually(lambda: not synced.inventory()["cluster"].get("networking.k8s.io/v1"))
        assert not admit(webhook, ingress)["allowed"]
    finally:
        synced.stop()


def test_serve_syncs_what_the_policy_config_names(api: FakeApi, tmp_path: Path) -> None:
    policies = [REFERENTIAL / "template-ingress-class.yaml",
                REFERENTIAL / "samples" / "constraint-ingress-class.yaml",
                REFERENTIAL / "samples" / "config-sync-ingressclasses.yaml"]  # fmt: skip
    arguments = ["--kubeconfig", str(api.kubeconfig), "--no-builtin"]
    arguments += [argument for path in policies for argument in ("--policy", str(path))]
    (ingress,) = load_manifests([str(REFERENTIAL / "samples" / "ingress-shop.yaml")])
    with serving(tmp_path, *arguments) as (printed, client):
        assert "sync networking.k8s.io/v1 IngressClass: listed 0 objects" in printed
        assert "sync networking.k8s.io/v1 Ingress: listed 1 objects" in printed
        assert "Gadget is not synced" in printed

        def allowed() -> bool:
            answer = client.post("/validate", json=review(ingress.raw, ingress.namespace))
            return bool(answer.json()["response"]["allowed"])

        assert not allowed()
        api.push("ADDED", {"metadata": {"name": "nginx"}}, INGRESS_CLASSES, "IngressClass",
                 "networking.k8s.io/v1")  # fmt: skip
        eventually(allowed)


def test_malformed_watch_events_leave_the_synced_objects_intact(api: FakeApi) -> None:
    """Hostile or broken events on a synced kind's watch: each is skipped, what was synced
    stays, and the watch goes on (an ERROR event ends it; it resumes without a relist)."""
    synced = SyncedObjects(connect(api.kubeconfig), [INGRESSES], backoff=(0.05, 0.2))
    synced.start()
    try:
        assert synced.wait_synced(20)
        eventually(lambda: any(path == INGRESSES.path for path, _ in api.watchers))
        for event in (
            {"type": "MODIFIED", "object": "not an object"},
            {"type": "ADDED", "object": {"metadata": {"name": "", "namespace": "shop"}}},
            {"type": "ADDED", "object": {"metadata": ["x"]}},
            {"type": "ADDED", "object": {"metadata": {"name": "x" * 10_000, "namespace": 7}}},
            {"type": "DELETED", "object": {"metadata": {"name": "never-seen"}}},
            {"type": "SURPRISE"},
            {"object": None},
            {"type": "ERROR", "object": {"kind": "Status", "code": 500, "message": "hiccup"}},
        ):
            api.send(event)

        def ingresses() -> dict:
            return synced.inventory()["namespace"]["shop"]["networking.k8s.io/v1"]["Ingress"]

        ingress_event(api, "ADDED", {"metadata": {"name": "after", "namespace": "shop"}})
        eventually(lambda: "after" in ingresses())
        assert "web" in ingresses() and "" not in ingresses()
        assert api.requests.count(f"{INGRESSES.path}?limit=500") == 1  # no relist needed
    finally:
        synced.stop()
