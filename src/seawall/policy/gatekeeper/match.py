"""Gatekeeper's ``spec.match`` semantics: kinds, scope, namespaces and excludedNamespaces
(with ``prefix*`` and ``*suffix`` globs), labelSelector and namespaceSelector.

As in Gatekeeper, a Namespace is matched on its own name and labels, and the namespace
criteria do not apply to cluster-scoped objects (or to objects whose namespace is unknown,
as in a manifest without one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from seawall.policy.objects import CLUSTER_SCOPED_KINDS, KubeObject


class NamespaceUnknown(LookupError):
    """A namespaceSelector needs the labels of a namespace nobody could provide."""

    def __init__(self, namespace: str, reason: str) -> None:
        super().__init__(f"namespaceSelector needs the labels of namespace {namespace}: {reason}")


def needs_namespace(match: Mapping[str, Any], obj: KubeObject) -> bool:
    """Whether ``match`` needs the labels of ``obj``'s namespace, which ``obj`` lacks."""
    return (
        "namespaceSelector" in match
        and obj.kind not in CLUSTER_SCOPED_KINDS
        and bool(obj.namespace)
    )


def _glob(pattern: str, value: str) -> bool:
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return pattern == value


def kinds_match(kinds: Any, group: str, kind: str) -> bool:
    """Whether ``spec.match.kinds`` (API groups and kinds, ``*``) covers ``group``/``kind``."""
    if not kinds:
        return True
    for entry in kinds:
        if not isinstance(entry, Mapping):
            continue
        groups = entry.get("apiGroups") or ["*"]
        names = entry.get("kinds") or ["*"]
        if ("*" in groups or group in groups) and ("*" in names or kind in names):
            return True
    return False


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """A Kubernetes LabelSelector (matchLabels, matchExpressions) against ``labels``."""
    if not isinstance(selector, Mapping):
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(str(key)) != str(value):
            return False
    for expression in selector.get("matchExpressions") or []:
        key = str(expression.get("key"))
        operator = expression.get("operator")
        values = [str(v) for v in expression.get("values") or []]
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _labels(raw: Mapping[str, Any] | None) -> dict[str, str]:
    metadata = (raw or {}).get("metadata") or {}
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}


def matches(
    match: Mapping[str, Any],
    obj: KubeObject,
    namespace_object: Mapping[str, Any] | None = None,
    old_labels: Sequence[Mapping[str, str]] = (),
) -> bool:
    """Whether a constraint with ``spec.match`` = ``match`` applies to ``obj``."""
    if not kinds_match(match.get("kinds"), obj.group, obj.kind):
        return False
    cluster_scoped = obj.kind in CLUSTER_SCOPED_KINDS
    scope = match.get("scope", "*")
    if (scope == "Cluster" and not cluster_scoped) or (scope == "Namespaced" and cluster_scoped):
        return False
    namespace = obj.name if obj.kind == "Namespace" else obj.namespace
    if namespace and (obj.kind == "Namespace" or not cluster_scoped):
        included = match.get("namespaces")
        if included and not any(_glob(str(p), namespace) for p in included):
            return False
        excluded = match.get("excludedNamespaces") or []
        if any(_glob(str(p), namespace) for p in excluded):
            return False
    if "labelSelector" in match and not any(
        selector_matches(match["labelSelector"], labels) for labels in (obj.labels, *old_labels)
    ):
        return False
    if "namespaceSelector" in match:
        if obj.kind == "Namespace":
            return selector_matches(match["namespaceSelector"], obj.labels)
        if not cluster_scoped and namespace_object is not None:
            return selector_matches(match["namespaceSelector"], _labels(namespace_object))
        if not cluster_scoped and obj.namespace:
            return False  # the namespace's labels are unknown: a selector cannot match
    return True
