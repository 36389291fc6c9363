"""API discovery: which resources a cluster serves, read from ``/api``, ``/apis`` and
``/apis/<group>/<version>`` (the classic discovery documents every API server answers).

Each group is read at its preferred version (one copy of each kind), and only resources
that can be listed are kept: subresources (``pods/log``) and resources without the ``list``
verb (``tokenreviews``) are left out. A group version the credentials may not read, or one
that fails (an aggregated API whose backend is down), is a warning; the rest continues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from seawall.policy.kubeapi import ApiFailure, KubeApi
from seawall.policy.objects import KNOWN_KINDS, as_list, as_mapping

# Groups of Kubernetes itself; resources of any other group come from CRDs or aggregated
# APIs and are listed, since controllers such as Argo Rollouts embed pod templates.
_CORE_GROUPS = frozenset({"", "apps", "batch", "policy", "autoscaling"})
# Known kinds never listed unless a constraint names them: a Secret's data are credentials,
# and no built-in policy reads more of it than its namespace.
_UNLISTED_KINDS = frozenset({"Secret"})


@dataclass(frozen=True, slots=True)
class ApiResource:
    """One listable resource: ``apps/v1`` ``deployments`` of kind ``Deployment``."""

    group: str  # "" for the core group
    version: str
    name: str  # the plural, as in the URL
    kind: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def path(self) -> str:
        """The collection path across all namespaces."""
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        return f"{prefix}/{self.name}"


def relevant(resource: ApiResource) -> bool:
    """Whether the built-in policies may decide on objects of this resource."""
    if resource.group in _CORE_GROUPS or resource.group.endswith(".k8s.io"):
        return resource.kind in KNOWN_KINDS and resource.kind not in _UNLISTED_KINDS
    return True


def _group_versions(api: KubeApi) -> Iterator[tuple[str, str]]:
    core = as_list(api.get("/api").get("versions"))
    if core:
        yield "", str(core[0])  # the core group has one version, v1
    for group in as_list(api.get("/apis").get("groups")):
        group = as_mapping(group)
        versions = as_list(group.get("versions"))
        preferred = as_mapping(group.get("preferredVersion") or (versions[0] if versions else {}))
        if isinstance(group.get("name"), str) and isinstance(preferred.get("version"), str):
            yield group["name"], preferred["version"]


def _resources(document: Mapping[str, Any], group: str, version: str) -> Iterator[ApiResource]:
    for entry in as_list(document.get("resources")):
        entry = as_mapping(entry)
        name, kind, verbs = entry.get("name"), entry.get("kind"), as_list(entry.get("verbs"))
        if not isinstance(name, str) or not isinstance(kind, str) or not name or not kind:
            continue
        if "/" in name or "list" not in verbs:
            continue
        yield ApiResource(group, version, name, kind, entry.get("namespaced") is True)


def discover(api: KubeApi, warn: Callable[[str], None]) -> list[ApiResource]:
    """Every listable resource the cluster serves, at each group's preferred version."""
    found: list[ApiResource] = []
    for group, version in _group_versions(api):
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            document = api.get(path)
        except ApiFailure as exc:
            warn(f"discovery of {path} failed ({exc}); its resources are not listed")
            continue
        found.extend(_resources(document, group, version))
    return found


def resource_of(api: KubeApi, group: str, version: str, kind: str) -> ApiResource | None:
    """The listable resource of ``kind`` in ``group/version`` (None: not served, or not
    listable); ApiFailure when the group version cannot be read."""
    path = f"/apis/{group}/{version}" if group else f"/api/{version}"
    return next((r for r in _resources(api.get(path), group, version) if r.kind == kind), None)
