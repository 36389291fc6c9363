"""Gatekeeper match semantics: kinds, scope, namespaces (globs), excludedNamespaces,
labelSelector and namespaceSelector."""

from __future__ import annotations

from typing import Any

import pytest

from seawall.policy.gatekeeper.match import matches, selector_matches
from seawall.policy.objects import normalise


def pod(namespace: str = "team", labels: dict[str, str] | None = None) -> Any:
    return normalise(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": namespace, "labels": labels or {}},
        }
    )


DEPLOYMENT = normalise(
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "team"}}
)
CLUSTER_ROLE = normalise(
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}}
)
NAMESPACE = normalise(
    {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "prod-eu", "labels": {"tier": "prod"}},
    }
)


@pytest.mark.parametrize(
    ("kinds", "obj", "expected"),
    [
        ([{"apiGroups": [""], "kinds": ["Pod"]}], pod(), True),
        ([{"apiGroups": [""], "kinds": ["Pod"]}], DEPLOYMENT, False),
        ([{"apiGroups": ["apps"], "kinds": ["Deployment"]}], DEPLOYMENT, True),
        ([{"apiGroups": [""], "kinds": ["Deployment"]}], DEPLOYMENT, False),
        ([{"apiGroups": ["*"], "kinds": ["*"]}], CLUSTER_ROLE, True),
        ([], CLUSTER_ROLE, True),
    ],
)
def test_kinds(kinds: list[dict[str, list[str]]], obj: Any, expected: bool) -> None:
    assert matches({"kinds": kinds}, obj) is expected


def test_scope() -> None:
    assert matches({"scope": "Cluster"}, CLUSTER_ROLE)
    assert not matches({"scope": "Cluster"}, pod())
    assert matches({"scope": "Namespaced"}, pod())
    assert not matches({"scope": "Namespaced"}, CLUSTER_ROLE)


@pytest.mark.parametrize(
    ("match", "namespace", "expected"),
    [
        ({"namespaces": ["team"]}, "team", True),
        ({"namespaces": ["other"]}, "team", False),
        ({"namespaces": ["te*"]}, "team", True),
        ({"namespaces": ["*am"]}, "team", True),
        ({"excludedNamespaces": ["kube-*"]}, "kube-system", False),
        ({"excludedNamespaces": ["kube-*"]}, "team", True),
        ({"namespaces": ["team"]}, "", True),  # namespace unknown (a manifest without one)
    ],
)
def test_namespaces(match: dict[str, list[str]], namespace: str, expected: bool) -> None:
    assert matches(match, pod(namespace)) is expected


def test_namespace_criteria_ignore_cluster_scoped_objects_but_match_namespaces_by_name() -> None:
    assert matches({"namespaces": ["team"]}, CLUSTER_ROLE)
    assert matches({"namespaces": ["prod-*"]}, NAMESPACE)
    assert not matches({"excludedNamespaces": ["prod-*"]}, NAMESPACE)


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ({"matchLabels": {"app": "web"}}, {"app": "web"}, True),
        ({"matchLabels": {"app": "web"}}, {"app": "db"}, False),
        (
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]},
            {"tier": "b"},
            True,
        ),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a"]}]}, {}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]}, {}, True),
        (
            {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]},
            {"tier": "a"},
            False,
        ),
        ({"matchExpressions": [{"key": "x", "operator": "Exists"}]}, {"x": ""}, True),
        ({"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]}, {"x": ""}, False),
    ],
)
def test_label_selector(selector: dict[str, Any], labels: dict[str, str], expected: bool) -> None:
    assert selector_matches(selector, labels) is expected
    assert matches({"labelSelector": selector}, pod(labels=labels)) is expected


def test_label_selector_also_matches_the_old_object_on_update() -> None:
    selector = {"labelSelector": {"matchLabels": {"app": "web"}}}
    assert matches(selector, pod(labels={}), old_labels=[{"app": "web"}])


def test_namespace_selector() -> None:
    selector = {"namespaceSelector": {"matchLabels": {"tier": "prod"}}}
    prod = {"metadata": {"name": "team", "labels": {"tier": "prod"}}}
    dev = {"metadata": {"name": "team", "labels": {"tier": "dev"}}}
    assert matches(selector, pod(), prod)
    assert not matches(selector, pod(), dev)
    assert not matches(selector, pod())  # the namespace's labels are unknown
    assert matches(selector, NAMESPACE)  # a Namespace is matched on its own labels
