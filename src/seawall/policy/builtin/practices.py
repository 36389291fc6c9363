"""Best practices from Azure Policy's built-in Kubernetes definitions (see docs/kubernetes.md
for the mapping): resource limits, image tags, root filesystem, tokens, capabilities,
exposed services, HTTPS ingress, naked pods, the default namespace, pull policy, probes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from seawall.errors import InputError
from seawall.image.reference import parse_reference
from seawall.policy.builtin import (
    CheckContext,
    Violation,
    add,
    annotation_pointer,
    check,
    remove,
    replace,
    set_field,
)
from seawall.policy.objects import CLUSTER_SCOPED_KINDS, KubeObject, as_mapping

# Annotations by which clouds make a LoadBalancer Service internal.
INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "networking.gke.io/load-balancer-type": "Internal",
    "cloud.google.com/load-balancer-type": "Internal",
}


@check("bp-resource-limits")
def resource_limits(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for container in obj.containers:
        if container.group == "ephemeralContainers":
            continue  # ephemeral containers cannot set resources
        limits = as_mapping(as_mapping(container.spec.get("resources")).get("limits"))
        missing = [r for r in ("cpu", "memory") if limits.get(r) in (None, "")]
        if missing:
            path = f"{container.path}.resources"
            resources = as_mapping(container.spec.get("resources"))
            fix = {"cpu": "500m", "memory": "512Mi", **limits}
            yield Violation(
                f"{path}.limits lacks {', '.join(missing)}",
                f"{container.label} has no {' and '.join(missing)} limit",
                (set_field(path, resources, "limits", fix),),
            )


def image_tag(image: str) -> tuple[str, str]:
    """(tag, digest) of ``image``; ("latest", "") when it names neither."""
    try:
        reference = parse_reference(image)
    except InputError:
        return "", ""
    return reference.tag, reference.digest


@check("bp-latest-tag")
def latest_tag(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for container in obj.containers:
        tag, digest = image_tag(container.image)
        if tag == "latest" and not digest:
            yield Violation(
                f"{container.path}.image={container.image}",
                f"{container.label} uses the mutable latest tag",
                (replace(f"{container.path}.image", f"{container.image.split(':')[0]}:<version>"),),
            )


@check("bp-read-only-root-filesystem")
def read_only_root(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for container in obj.containers:
        if container.security_context.get("readOnlyRootFilesystem") is not True:
            path = f"{container.path}.securityContext"
            fix = set_field(path, container.security_context, "readOnlyRootFilesystem", True)
            yield Violation(
                f"{path}.readOnlyRootFilesystem is not true",
                f"{container.label} has a writable root filesystem",
                (fix,),
            )


@check("bp-automount-service-account-token")
def automount_token(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    value = obj.pod_spec.get("automountServiceAccountToken")
    if value is not False:
        field = f"{obj.pod_path}.automountServiceAccountToken"
        yield Violation(
            f"{field}={value if value is not None else 'unset'}",
            "the service account token is mounted into the pod",
            (add(field, False),),
        )


@check("bp-allowed-capabilities")
def allowed_capabilities(obj: KubeObject, context: CheckContext) -> Iterator[Violation]:
    allowed = set(context.settings.allowed_capabilities)
    for container in obj.containers:
        caps = as_mapping(container.security_context.get("capabilities"))
        raw_added = caps.get("add")
        added: list[Any] = raw_added if isinstance(raw_added, list) else []
        extra = [str(c) for c in added if str(c) not in allowed]
        if extra:
            field = f"{container.path}.securityContext.capabilities.add"
            yield Violation(
                f"{field}={extra}",
                f"{container.label} adds capabilities that are not allowed: {', '.join(extra)}",
                (replace(field, [c for c in added if str(c) in allowed]),),
            )


@check("bp-loadbalancer-service", "Service")
def public_load_balancer(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    if as_mapping(obj.raw.get("spec")).get("type") != "LoadBalancer":
        return
    if any(obj.annotations.get(k) == v for k, v in INTERNAL_LB_ANNOTATIONS.items()):
        return
    key = "service.beta.kubernetes.io/azure-load-balancer-internal"
    yield Violation(
        "spec.type=LoadBalancer without an internal load-balancer annotation",
        "the Service gets a public load balancer",
        ({"op": "add", "path": annotation_pointer(key), "value": "true"},),
    )


@check("bp-nodeport-service", "Service")
def node_port(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    if as_mapping(obj.raw.get("spec")).get("type") == "NodePort":
        yield Violation(
            "spec.type=NodePort",
            "the Service opens a port on every node",
            (replace("spec.type", "ClusterIP"),),
        )


@check("bp-ingress-https", "Ingress")
def ingress_https(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    spec = as_mapping(obj.raw.get("spec"))
    problems, fixes = [], []
    if not spec.get("tls"):
        problems.append("spec.tls is empty")
        fixes.append(add("spec.tls", [{"hosts": ["<host>"], "secretName": "<tls-secret>"}]))
    if obj.annotations.get("kubernetes.io/ingress.allow-http") != "false":
        problems.append('annotation kubernetes.io/ingress.allow-http is not "false"')
        pointer = annotation_pointer("kubernetes.io/ingress.allow-http")
        fixes.append({"op": "add", "path": pointer, "value": "false"})
    if problems:
        yield Violation("; ".join(problems), "the Ingress serves plain HTTP", tuple(fixes))


@check("bp-naked-pod", "Pod")
def naked_pod(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    if not as_mapping(obj.raw.get("metadata")).get("ownerReferences"):
        yield Violation(
            "metadata.ownerReferences is empty",
            "the Pod has no controller to recreate it",
            (),
        )


# What Kubernetes itself keeps in the default namespace (CIS 5.6.4 expects them there).
KUBERNETES_OWN_IN_DEFAULT = frozenset(
    {("Service", "kubernetes"), ("Endpoints", "kubernetes"), ("EndpointSlice", "kubernetes"),
     ("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}
)  # fmt: skip


@check("bp-default-namespace", "*")
def default_namespace(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    if (obj.kind, obj.name) in KUBERNETES_OWN_IN_DEFAULT:
        return
    if obj.kind not in CLUSTER_SCOPED_KINDS and obj.namespace == "default":
        yield Violation(
            "metadata.namespace=default",
            f"the {obj.kind} is in the default namespace",
            (replace("metadata.namespace", "<team-namespace>"),),
        )


@check("bp-image-pull-policy")
def pull_policy(obj: KubeObject, context: CheckContext) -> Iterator[Violation]:
    allowed = context.settings.allowed_pull_policies
    for container in obj.containers:
        policy = container.spec.get("imagePullPolicy")
        if policy not in allowed:
            field = f"{container.path}.imagePullPolicy"
            yield Violation(
                f"{field}={policy or 'unset'}",
                f"{container.label} pull policy is not one of {', '.join(allowed)}",
                (add(field, allowed[0]) if allowed else remove(field),),
            )


@check("bp-probes")
def probes(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for container in obj.containers:
        if container.group != "containers":
            continue  # init and ephemeral containers take no probes
        missing = [p for p in ("livenessProbe", "readinessProbe") if p not in container.spec]
        if missing:
            yield Violation(
                f"{container.path} lacks {', '.join(missing)}",
                f"{container.label} has no {' or '.join(missing)}",
                tuple(
                    add(f"{container.path}.{p}", {"httpGet": {"path": "/healthz", "port": 8080}})
                    for p in missing
                ),
            )


@check("bp-secrets-as-env")
def secrets_as_env(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    """A Secret's value in an environment variable (``env[].valueFrom.secretKeyRef`` or
    ``envFrom[].secretRef``): it shows in ``/proc/<pid>/environ``, crash dumps and child
    processes. The fix, a volume mount, changes how the application reads it: no patch."""
    for container in obj.containers:
        for index, variable in enumerate(container.spec.get("env") or []):
            source = as_mapping(as_mapping(variable).get("valueFrom")).get("secretKeyRef")
            if source:
                name = as_mapping(source).get("name", "?")
                yield Violation(
                    f"{container.path}.env[{index}].valueFrom.secretKeyRef.name={name}",
                    f"{container.label} reads Secret {name} from an environment variable",
                )
        for index, source in enumerate(container.spec.get("envFrom") or []):
            secret = as_mapping(as_mapping(source).get("secretRef"))
            if secret:
                yield Violation(
                    f"{container.path}.envFrom[{index}].secretRef.name={secret.get('name', '?')}",
                    f"{container.label} takes every key of a Secret as environment variables",
                )
