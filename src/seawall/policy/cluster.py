"""List a live cluster's objects through the Kubernetes API, for ``k8s scan``.

Which resources exist is asked of the API server (discovery), so CRDs are listed too: an
Argo Rollout or an OpenShift DeploymentConfig is evaluated like a Deployment. A resource
the credentials may not list (403) is a warning and the listing goes on; rejected
credentials or an unreachable server end it. Objects a controller owns (a Deployment's
ReplicaSets and Pods) are left out, as their owner carries the same pod template and the
same verdicts; mirror pods (a node's static pods, "owned" by the Node) are kept. Namespaces
are kept so that constraints with a namespaceSelector see their labels.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seawall.errors import EnvironmentFailure
from seawall.policy.discovery import ApiResource, discover, relevant
from seawall.policy.kubeapi import ApiFailure, ApiUnreachable, KubeApi, connect
from seawall.policy.objects import KubeObject, normalise


def _is_owned(raw: Mapping[str, Any]) -> bool:
    """Whether a controller owns the object (its owner carries the same pod template). A
    Node "owns" the mirror pods of its static pods: those have no other source in the API
    (the control plane's own pods), so they are kept."""
    owners = (raw.get("metadata") or {}).get("ownerReferences") or []
    return any(
        isinstance(o, Mapping) and o.get("controller") and o.get("kind") != "Node" for o in owners
    )


def _warn_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _items(api: KubeApi, resource: ApiResource) -> Iterator[dict[str, Any]]:
    for page in api.pages(resource.path):
        for item in page.get("items") or []:
            if isinstance(item, dict):
                # List items carry no kind or apiVersion on the wire.
                item.setdefault("kind", resource.kind)
                item.setdefault("apiVersion", resource.api_version)
                yield item


def list_cluster(
    kubeconfig: Path | None = None,
    context: str | None = None,
    include_owned: bool = False,
    *,
    wanted: Callable[[ApiResource], bool] = relevant,
    warn: Callable[[str], None] = _warn_stderr,
    in_cluster: bool = False,
) -> Iterator[KubeObject]:
    """Every object of every listable resource ``wanted`` keeps, in every namespace (of the
    kubeconfig's cluster, or with ``in_cluster`` of the pod's own, as its service account)."""
    api = connect(kubeconfig, context, in_cluster=in_cluster)
    origin = f"cluster:{context}" if context else "cluster"
    try:
        for resource in discover(api, warn):
            if not wanted(resource):
                continue
            try:
                for raw in _items(api, resource):
                    if include_owned or not _is_owned(raw):
                        yield normalise(raw, origin)
            except ApiFailure as exc:
                if exc.code not in (403, 404):
                    raise
                # Not allowed to list it, or gone since discovery: the rest still counts.
                warn(f"cannot list {resource.name}.{resource.api_version} ({exc}); skipped")
    except ApiFailure as exc:
        raise EnvironmentFailure(
            f"Kubernetes API: {exc}", hint="check the kubeconfig's credentials"
        ) from None
    except ApiUnreachable as exc:
        raise EnvironmentFailure(
            f"Kubernetes API unreachable: {exc}", hint="check the kubeconfig's server"
        ) from None
    finally:
        api.close()


@dataclass(frozen=True)
class ClusterIdentity:
    """What names a cluster across scans, and what it runs."""

    uid: str  # the kube-system namespace's UID, "" when the credentials may not read it
    version: str  # the API server's gitVersion (/version), "" when unreadable


def cluster_identity(
    kubeconfig: Path | None = None, context: str | None = None, *, in_cluster: bool = False
) -> ClusterIdentity:
    """The cluster's stable identity (the UID of its ``kube-system`` namespace, which lives
    as long as the cluster does) and its Kubernetes version."""
    api = connect(kubeconfig, context, in_cluster=in_cluster)
    try:
        return ClusterIdentity(uid=_read(api, "/api/v1/namespaces/kube-system", "metadata",
                                         "uid"),
                               version=_read(api, "/version", "gitVersion"))  # fmt: skip
    finally:
        api.close()


def _read(api: KubeApi, path: str, *keys: str) -> str:
    try:
        document: Any = api.get(path)
    except (ApiFailure, ApiUnreachable):
        return ""
    for key in keys:
        document = document.get(key) if isinstance(document, dict) else None
    return str(document)[:200] if isinstance(document, str) else ""
