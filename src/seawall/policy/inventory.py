"""Referential data: the other objects of a cluster, as Gatekeeper gives them to templates.

Templates that compare an object with the rest of the cluster (unique ingress hosts, unique
service selectors, a PodDisruptionBudget for each Deployment, ...) read ``data.inventory``:
``data.inventory.namespace[NAMESPACE][API_VERSION][KIND][NAME]`` for namespaced objects and
``data.inventory.cluster[API_VERSION][KIND][NAME]`` for cluster-scoped ones, each the object
as stored. Seawall builds it from what it is given: a gator suite's ``inventory`` objects in
``policy verify``, the manifests or cluster objects being scanned in ``k8s scan``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from seawall.policy.objects import CLUSTER_SCOPED_KINDS, KubeObject

Inventory = dict[str, dict[str, Any]]


def referential_data(objects: Iterable[KubeObject]) -> Inventory:
    """The ``data.inventory`` document of ``objects`` (those without a kind, API version or
    name cannot be addressed and are left out; a later object replaces an earlier one of the
    same address, as a later apply would)."""
    inventory: Inventory = {"cluster": {}, "namespace": {}}
    for obj in objects:
        if not (obj.kind and obj.api_version and obj.name and isinstance(obj.raw, Mapping)):
            continue
        if obj.kind in CLUSTER_SCOPED_KINDS or not obj.namespace:
            scope = inventory["cluster"]
        else:
            scope = inventory["namespace"].setdefault(obj.namespace, {})
        scope.setdefault(obj.api_version, {}).setdefault(obj.kind, {})[obj.name] = dict(obj.raw)
    return inventory
