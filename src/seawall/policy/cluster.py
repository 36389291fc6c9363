"""List a live cluster's objects through the Kubernetes API (lightkube), for ``k8s scan``.

Thin on purpose: which kinds to list, how to read the kubeconfig, and errors turned into
one line. Objects a controller owns (a Deployment's ReplicaSets and Pods) are left out, as
their owner carries the same pod template and the same verdicts. Namespaces are kept so that
constraints with a namespaceSelector see their labels.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from seawall.errors import EnvironmentFailure, InputError
from seawall.policy.objects import KubeObject, normalise

# (module, class) of every kind the policies look at, in lightkube.resources.
LISTED_KINDS = (
    ("core_v1", "Namespace"),
    ("core_v1", "Pod"),
    ("core_v1", "ReplicationController"),
    ("core_v1", "Service"),
    ("core_v1", "ServiceAccount"),
    ("apps_v1", "Deployment"),
    ("apps_v1", "StatefulSet"),
    ("apps_v1", "DaemonSet"),
    ("apps_v1", "ReplicaSet"),
    ("batch_v1", "Job"),
    ("batch_v1", "CronJob"),
    ("networking_v1", "Ingress"),
    ("networking_v1", "NetworkPolicy"),
    ("rbac_authorization_v1", "Role"),
    ("rbac_authorization_v1", "ClusterRole"),
    ("rbac_authorization_v1", "RoleBinding"),
    ("rbac_authorization_v1", "ClusterRoleBinding"),
    ("admissionregistration_v1", "ValidatingWebhookConfiguration"),
)


def _client(kubeconfig: Path | None, context: str | None) -> Any:
    from lightkube import Client, ConfigError, KubeConfig

    try:
        config = KubeConfig.from_file(kubeconfig) if kubeconfig else KubeConfig.from_env()
        return Client(config.get(context_name=context), trust_env=False)
    except ConfigError as exc:
        raise InputError(f"kubeconfig: {exc}", hint="check --kubeconfig and --context") from None
    except OSError as exc:
        raise InputError(f"cannot read kubeconfig {kubeconfig}: {exc.strerror}") from None


def _is_owned(raw: Mapping[str, Any]) -> bool:
    owners = (raw.get("metadata") or {}).get("ownerReferences") or []
    return any(isinstance(o, Mapping) and o.get("controller") for o in owners)


def list_cluster(
    kubeconfig: Path | None = None, context: str | None = None, include_owned: bool = False
) -> Iterator[KubeObject]:
    """Every object of :data:`LISTED_KINDS` in every namespace, as normalised objects."""
    import importlib

    import httpx2
    from lightkube import ApiError
    from lightkube.core.resource import NamespacedResource

    client = _client(kubeconfig, context)
    origin = f"cluster:{context}" if context else "cluster"
    for module_name, kind in LISTED_KINDS:
        module = importlib.import_module(f"lightkube.resources.{module_name}")
        resource = getattr(module, kind)
        definition = resource._api_info.resource
        namespaced = "*" if issubclass(resource, NamespacedResource) else None
        try:
            for item in client.list(resource, namespace=namespaced, chunk_size=500):
                raw = item.to_dict()
                raw.setdefault("kind", kind)
                group = f"{definition.group}/" if definition.group else ""
                raw.setdefault("apiVersion", f"{group}{definition.version}")
                if include_owned or not _is_owned(raw):
                    yield normalise(raw, origin)
        except ApiError as exc:
            if exc.status.code in (403, 404):
                continue  # not allowed to list, or the API is not served: skip this kind
            raise EnvironmentFailure(f"Kubernetes API: listing {kind}: {exc}") from None
        except httpx2.HTTPError as exc:
            raise EnvironmentFailure(
                f"Kubernetes API unreachable: {exc}", hint="check the kubeconfig's server"
            ) from None
