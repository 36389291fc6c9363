"""Referential data at admission: the kinds a Gatekeeper Config or SyncSet names are listed
and watched from the (local, recorded) API server, and templates that read data.inventory
decide on what the cluster holds now."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from seawall.admission.synced import SyncedObjects, start_synced
from seawall.errors import InputError
from seawall.policy.discovery import ApiResource
from seawall.policy.engine import PolicyEngine
from seawall.policy.kubeapi import connect
from seawall.policy.library import PolicyLibrary
from seawall.policy.manifests import load_manifests
from tests.admission.conftest import StartWebhook
from tests.admission.test_namespace_cache import admit
from tests.policy.apiserver import FakeApi, api_server
from tests.policy.support import FIXTURES

REFERENTIAL = FIXTURES / "referential"
INGRESS_CLASSES = "/apis/networking.k8s.io/v1/ingressclasses"
INGRESSES = ApiResource("networking.k8s.io", "v1", "ingresses", "Ingress", True)


def eventually(condition: Callable[[], bool]) -> None:
    """Wait for the watch thread to apply what the server sent (a bound, not a timing)."""
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, "the synced objects did not catch up"
        time.sleep(0.02)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[FakeApi]:
    with api_server(tmp_path) as server:
        yield server


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
    import ssl
    import subprocess
    import sys

    import httpx

    from seawall.admission.certs import issue
    from tests.admission.test_namespace_cache import review

    certs = issue(["localhost"])
    for name, data in (("ca.crt", certs.ca_cert), ("tls.crt", certs.cert), ("tls.key", certs.key)):
        (tmp_path / name).write_bytes(data)
    policies = [REFERENTIAL / "template-ingress-class.yaml",
                REFERENTIAL / "samples" / "constraint-ingress-class.yaml",
                REFERENTIAL / "samples" / "config-sync-ingressclasses.yaml"]  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "seawall", "admission", "serve", "--host", "127.0.0.1",
         "--port", "0", "--cert", str(tmp_path / "tls.crt"), "--key", str(tmp_path / "tls.key"),
         "--kubeconfig", str(api.kubeconfig), "--no-builtin",
         *(arg for path in policies for arg in ("--policy", str(path))),
         "--decision-log", str(tmp_path / "decisions.jsonl")],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        lines = [process.stderr.readline()]
        while "listening" not in lines[-1]:
            assert lines[-1], "".join(lines)
            lines.append(process.stderr.readline())
        text = "".join(lines)
        assert "sync networking.k8s.io/v1 IngressClass: listed 0 objects" in text
        assert "sync networking.k8s.io/v1 Ingress: listed 1 objects" in text
        assert "Gadget is not synced" in text
        (ingress,) = load_manifests([str(REFERENTIAL / "samples" / "ingress-shop.yaml")])
        port = int(lines[-1].rsplit(":", 1)[1])
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        with httpx.Client(base_url=f"https://localhost:{port}", verify=context) as client:

            def allowed() -> bool:
                answer = client.post("/validate", json=review(ingress.raw, ingress.namespace))
                return bool(answer.json()["response"]["allowed"])

            assert not allowed()
            api.push("ADDED", {"metadata": {"name": "nginx"}}, INGRESS_CLASSES, "IngressClass",
                     "networking.k8s.io/v1")  # fmt: skip
            eventually(allowed)
    finally:
        process.terminate()
        process.wait(timeout=10)
