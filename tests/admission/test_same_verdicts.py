"""One engine, three doors: the rules a manifest scan fails on an object are the rules the
cluster listing fails on it and the ones the webhook denies (or warns about) it for."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from pathlib import Path

from seawall.model import Status
from seawall.policy.cluster import list_cluster
from seawall.policy.manifests import load_manifests
from seawall.policy.objects import KubeObject
from tests.admission.conftest import StartWebhook
from tests.policy.apiserver import recorded_api
from tests.policy.support import BUILTIN, FIXTURES, fixture_engine

Verdicts = dict[tuple[int, str, str, str], tuple[frozenset[str], frozenset[str]]]
RULE = re.compile(r"\[([A-Za-z0-9][\w./:-]*)\]")


def scan_verdicts(objects: list[KubeObject]) -> Verdicts:
    found: dict[tuple[int, str, str, str], tuple[set[str], set[str]]] = defaultdict(
        lambda: (set(), set())
    )
    for index, obj in enumerate(objects):
        key = (index, obj.kind, obj.namespace, obj.name)
        found[key]  # objects without findings count too
        for decision in fixture_engine().evaluate(obj):
            denied, warned = found[key]
            (warned if decision.finding.status is Status.WARN else denied).add(
                decision.finding.rule.id
            )
    return {key: (frozenset(d), frozenset(w)) for key, (d, w) in found.items()}


def webhook_verdicts(start_webhook: StartWebhook, objects: list[KubeObject]) -> Verdicts:
    webhook = start_webhook(fixture_engine())
    found: Verdicts = {}
    for index, obj in enumerate(objects):
        body = {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": str(uuid.uuid4()),
                "kind": {
                    "group": obj.group,
                    "version": obj.api_version.rpartition("/")[2],
                    "kind": obj.kind,
                },
                "operation": "CREATE",
                "namespace": obj.namespace,
                "object": dict(obj.raw),
            },
        }
        response = webhook.client.post("/validate", json=body).json()["response"]
        denied = RULE.findall(response.get("status", {}).get("message", ""))
        warned = [RULE.match(w).group(1) for w in response.get("warnings", [])]  # type: ignore[union-attr]
        found[(index, obj.kind, obj.namespace, obj.name)] = (frozenset(denied), frozenset(warned))
    return found


def by_name(verdicts: Verdicts) -> dict[tuple[str, str, str], object]:
    """Keyed by kind, namespace and name (unique in workloads.yaml): listing order differs."""
    return {key[1:]: value for key, value in verdicts.items()}


def test_manifests_cluster_and_webhook_agree(start_webhook: StartWebhook, tmp_path: Path) -> None:
    manifests = load_manifests([str(FIXTURES / "workloads.yaml")])
    with recorded_api(tmp_path) as (kubeconfig, _):
        listed = list(list_cluster(kubeconfig))
    from_scan = scan_verdicts(manifests)
    assert any(denied for denied, _ in from_scan.values())
    assert by_name(scan_verdicts(listed)) == by_name(from_scan)
    assert webhook_verdicts(start_webhook, manifests) == from_scan


def test_every_builtin_fixture_gets_the_same_verdict_from_the_webhook(
    start_webhook: StartWebhook,
) -> None:
    objects = load_manifests([str(BUILTIN)])
    assert webhook_verdicts(start_webhook, objects) == scan_verdicts(objects)
