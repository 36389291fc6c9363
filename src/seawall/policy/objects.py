"""Normalise any Kubernetes object to what policies look at: its identity, its pod spec
(wherever the controller embeds it) and every container in it, each with its JSON path.

Policies never walk ``spec.template.spec`` themselves, so a check written once covers a Pod,
a Deployment, a CronJob and every other controller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from seawall.model import Resource

# Where each built-in kind keeps its pod template (metadata and spec), as a key path. Any
# other kind (Argo Rollouts, OpenShift DeploymentConfigs, ...) is searched at the paths of
# _GENERIC_TEMPLATE_PATHS, so controllers from CRDs are checked like Deployments.
_POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "PodTemplate": ("template",),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
_GENERIC_TEMPLATE_PATHS = (("spec", "template"), ("spec", "jobTemplate", "spec", "template"))
CONTAINER_GROUPS = ("initContainers", "containers", "ephemeralContainers")
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "Node",
        "ClusterRole",
        "ClusterRoleBinding",
        "PersistentVolume",
        "StorageClass",
        "CustomResourceDefinition",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "PriorityClass",
        "IngressClass",
        "RuntimeClass",
        "APIService",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    }
)
# Kinds the built-in policies know; any other kind passes them untouched.
KNOWN_KINDS = frozenset(
    {
        *_POD_TEMPLATE_PATHS,
        *CLUSTER_SCOPED_KINDS,
        "Service",
        "Ingress",
        "Role",
        "RoleBinding",
        "ServiceAccount",
        "NetworkPolicy",
        "ConfigMap",
        "Secret",
        "PersistentVolumeClaim",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "LimitRange",
        "ResourceQuota",
        "Endpoints",
        "EndpointSlice",
    }
)


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one (manifests are untrusted shapes)."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def json_pointer(path: str) -> str:
    """``spec.containers[0].image`` -> ``/spec/containers/0/image`` (RFC 6901)."""
    parts = path.replace("[", ".").replace("]", "").split(".")
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts if p)


@dataclass(frozen=True, slots=True)
class Container:
    """One container of a pod spec: which list it is in, its index, its path and spec."""

    group: str  # "containers", "initContainers" or "ephemeralContainers"
    index: int
    path: str  # e.g. "spec.template.spec.containers[0]"
    spec: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.spec.get("name", f"#{self.index}"))

    @property
    def image(self) -> str:
        image = self.spec.get("image", "")
        return image if isinstance(image, str) else ""

    @property
    def security_context(self) -> Mapping[str, Any]:
        return as_mapping(self.spec.get("securityContext"))

    @property
    def label(self) -> str:
        """``container nginx`` / ``initContainer setup`` for messages."""
        return f"{self.group[:-1]} {self.name}"


@dataclass(frozen=True, slots=True)
class KubeObject:
    """A Kubernetes object with its pod spec and containers located once, up front."""

    raw: Mapping[str, Any]
    kind: str
    api_version: str
    name: str
    namespace: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    pod_path: str = ""  # "" when the object embeds no pod spec
    pod_spec: Mapping[str, Any] = field(default_factory=dict)
    pod_annotations: Mapping[str, str] = field(default_factory=dict)
    containers: tuple[Container, ...] = ()
    origin: str = ""  # the file (or "cluster", "admission") the object came from

    @property
    def has_pod(self) -> bool:
        return bool(self.pod_path)

    @property
    def group(self) -> str:
        """The API group (``apps``; ``""`` for the core group)."""
        return self.api_version.rpartition("/")[0] if "/" in self.api_version else ""

    @property
    def pod_security_context(self) -> Mapping[str, Any]:
        return as_mapping(self.pod_spec.get("securityContext"))

    def resource(self) -> Resource:
        """The :class:`~seawall.model.Resource` findings on this object are about."""
        attributes = {"apiVersion": self.api_version}
        if self.origin:
            attributes["file"] = self.origin
        return Resource(
            kind=self.kind or "Unknown",
            name=self.name,
            namespace=self.namespace,
            id=str(as_mapping(self.raw.get("metadata")).get("uid", "")),
            attributes=attributes,
        )


def _string_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in as_mapping(value).items()}


def _generic_template_path(raw: Mapping[str, Any], kind: str) -> tuple[str, ...] | None:
    """The first generic path holding a pod spec (a mapping with a ``containers`` list) in an
    object of a kind without a known path; built-in kinds without a pod spec have none."""
    if kind in KNOWN_KINDS:
        return None
    for path in _GENERIC_TEMPLATE_PATHS:
        node: Mapping[str, Any] = raw
        for key in path:
            node = as_mapping(node.get(key))
        if isinstance(as_mapping(node.get("spec")).get("containers"), list):
            return path
    return None


def normalise(raw: Mapping[str, Any], origin: str = "", default_namespace: str = "") -> KubeObject:
    """Read the identity, pod spec and containers of ``raw`` (any kind; nothing is required)."""
    kind = raw.get("kind")
    kind = kind if isinstance(kind, str) else ""
    api_version = raw.get("apiVersion")
    metadata = as_mapping(raw.get("metadata"))
    namespace = str(metadata.get("namespace") or "")
    if not namespace and kind not in CLUSTER_SCOPED_KINDS:
        namespace = default_namespace
    common: dict[str, Any] = {
        "raw": raw,
        "kind": kind,
        "api_version": api_version if isinstance(api_version, str) else "",
        "name": str(metadata.get("name") or metadata.get("generateName") or ""),
        "namespace": namespace,
        "labels": _string_map(metadata.get("labels")),
        "annotations": _string_map(metadata.get("annotations")),
        "origin": origin,
    }
    template_path = (
        _POD_TEMPLATE_PATHS[kind]
        if kind in _POD_TEMPLATE_PATHS
        else _generic_template_path(raw, kind)
    )
    if template_path is None:
        return KubeObject(**common)
    template: Mapping[str, Any] = raw
    for key in template_path:
        template = as_mapping(template.get(key))
    pod_spec = as_mapping(template.get("spec"))
    pod_path = ".".join((*template_path, "spec"))
    containers = []
    for group in CONTAINER_GROUPS:
        items = pod_spec.get(group)
        if not isinstance(items, list):
            continue
        for index, spec in enumerate(items):
            if isinstance(spec, Mapping):
                containers.append(Container(group, index, f"{pod_path}.{group}[{index}]", spec))
    pod_annotations = (
        common["annotations"]
        if kind == "Pod"
        else _string_map(as_mapping(template.get("metadata")).get("annotations"))
    )
    return KubeObject(
        **common,
        pod_path=pod_path,
        pod_spec=pod_spec,
        pod_annotations=pod_annotations,
        containers=tuple(containers),
    )
