"""RBAC and exposure: cluster-admin bindings, wildcard roles, exec and secret-reading
roles, anonymous subjects, an exposed Kubernetes dashboard and other exposed consoles."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from seawall.policy.builtin import CheckContext, Violation, check, remove, replace
from seawall.policy.objects import KubeObject, as_mapping

BINDINGS = ("RoleBinding", "ClusterRoleBinding")
ROLES = ("Role", "ClusterRole")
ANONYMOUS = {("User", "system:anonymous"), ("Group", "system:unauthenticated")}
DASHBOARD = "kubernetes-dashboard"
# Applications that run code or manage a cluster by design (as the run-time pack's
# sensitive_service_names, plus Kubeflow's and Argo CD's consoles): exposed, each is initial
# access. Matched in a Service's name, its app labels and its selector.
CONSOLES = (
    "jupyter", "jenkins", "argo", "elasticsearch", "kibana", "weave-scope", "nomad", "consul",
    "etcd", "docker", "kubelet", "spark", "ray-head", "portainer", "rancher", "prometheus",
    "grafana", "minio", "mlflow", "airflow", "centraldashboard", "ml-pipeline-ui",
    "kubeflow", "alertmanager",
)  # fmt: skip
EXTERNAL = ("LoadBalancer", "NodePort")


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _subjects(obj: KubeObject) -> list[Mapping[str, Any]]:
    subjects = obj.raw.get("subjects")
    return [as_mapping(s) for s in subjects] if isinstance(subjects, list) else []


def _is_builtin(obj: KubeObject) -> bool:
    """Kubernetes' own bootstrap roles and bindings (``system:*``, ``cluster-admin``)."""
    return obj.name.startswith("system:") or obj.name == "cluster-admin"


@check("rbac-cluster-admin-binding", *BINDINGS)
def cluster_admin(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    role = as_mapping(obj.raw.get("roleRef"))
    if role.get("kind") != "ClusterRole" or role.get("name") != "cluster-admin":
        return
    for index, subject in enumerate(_subjects(obj)):
        if subject.get("kind") == "Group" and subject.get("name") == "system:masters":
            continue
        yield Violation(
            f"roleRef=cluster-admin, subjects[{index}]={subject.get('kind')} {subject.get('name')}",
            f"{subject.get('kind')} {subject.get('name')} is bound to cluster-admin",
            (replace("roleRef.name", "<least-privileged-role>"),),
        )


def _rules(obj: KubeObject) -> Iterator[tuple[int, Mapping[str, Any]]]:
    rules = obj.raw.get("rules")
    if isinstance(rules, list):
        for index, rule in enumerate(rules):
            yield index, as_mapping(rule)


@check("rbac-wildcard-role", *ROLES)
def wildcard_role(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    if _is_builtin(obj):
        return
    for index, rule in _rules(obj):
        wild = [f for f in ("verbs", "resources") if "*" in _strings(rule.get(f))]
        if wild:
            yield Violation(
                f"rules[{index}].{' and '.join(wild)} contain *",
                "the role grants every " + " and every ".join(w[:-1] for w in wild),
                (replace(f"rules[{index}].{wild[0]}", ["<explicit list>"]),),
            )


def _grants(rule: Mapping[str, Any], resources: set[str], verbs: set[str]) -> bool:
    groups = _strings(rule.get("apiGroups"))
    if groups and not ({"", "*"} & set(groups)):
        return False  # pods and secrets are in the core group
    return bool(set(_strings(rule.get("resources"))) & (resources | {"*"})) and bool(
        set(_strings(rule.get("verbs"))) & (verbs | {"*"})
    )


def _role_grant(
    obj: KubeObject, resources: set[str], verbs: set[str], what: str, *, named_ok: bool = False
) -> Iterator[Violation]:
    """Each rule of the role granting ``verbs`` on ``resources``; with ``named_ok``, a rule
    limited to named objects (``resourceNames``) is not one."""
    if _is_builtin(obj):
        return
    for index, rule in _rules(obj):
        if named_ok and rule.get("resourceNames"):
            continue
        if _grants(rule, resources, verbs):
            yield Violation(
                f"rules[{index}]: resources={_strings(rule.get('resources'))} "
                f"verbs={_strings(rule.get('verbs'))}",
                f"the role can {what}",
                (remove(f"rules[{index}]"),),
            )


@check("rbac-exec-pods", *ROLES)
def exec_pods(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    yield from _role_grant(
        obj, {"pods/exec", "pods/attach", "pods/*"}, {"create", "get"}, "exec into pods"
    )


@check("rbac-read-secrets", *ROLES)
def read_secrets(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    yield from _role_grant(
        obj, {"secrets"}, {"get", "list", "watch"}, "read secrets", named_ok=True
    )


@check("rbac-anonymous-subject", *BINDINGS)
def anonymous(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    for index, subject in enumerate(_subjects(obj)):
        if (subject.get("kind"), subject.get("name")) in ANONYMOUS:
            yield Violation(
                f"subjects[{index}]={subject.get('kind')} {subject.get('name')}",
                f"the binding grants its role to {subject.get('name')}",
                (remove(f"subjects[{index}]"),),
            )


def _is_dashboard(name: Any) -> bool:
    return isinstance(name, str) and DASHBOARD in name


@check("rbac-dashboard-exposed", "Service", "Ingress", *BINDINGS)
def dashboard(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    spec = as_mapping(obj.raw.get("spec"))
    if obj.kind == "Service":
        is_dashboard = _is_dashboard(obj.name) or obj.labels.get("k8s-app") == DASHBOARD
        if is_dashboard and spec.get("type") in ("LoadBalancer", "NodePort"):
            yield Violation(
                f"spec.type={spec.get('type')}",
                "the Kubernetes dashboard is reachable from outside the cluster",
                (replace("spec.type", "ClusterIP"),),
            )
    elif obj.kind == "Ingress":
        for index, rule in enumerate(spec.get("rules") or []):
            for path in as_mapping(as_mapping(rule).get("http")).get("paths") or []:
                service = as_mapping(as_mapping(as_mapping(path).get("backend")).get("service"))
                legacy = as_mapping(path).get("backend", {})
                if _is_dashboard(service.get("name")) or _is_dashboard(
                    as_mapping(legacy).get("serviceName")
                ):
                    yield Violation(
                        f"spec.rules[{index}] routes to the kubernetes-dashboard service",
                        "the Kubernetes dashboard is published through an Ingress",
                        (remove(f"spec.rules[{index}]"),),
                    )
    elif as_mapping(obj.raw.get("roleRef")).get("name") == "cluster-admin":
        for index, subject in enumerate(_subjects(obj)):
            if subject.get("kind") == "ServiceAccount" and _is_dashboard(subject.get("name")):
                yield Violation(
                    f"subjects[{index}]=ServiceAccount {subject.get('name')}",
                    "the dashboard's service account is cluster-admin",
                    (remove(f"subjects[{index}]"),),
                )


def _console_named(obj: KubeObject) -> str:
    """The console a Service fronts, by its name, app labels or selector; "" if none."""
    spec = as_mapping(obj.raw.get("spec"))
    words = [obj.name, *(obj.labels.get(k, "") for k in ("app", "app.kubernetes.io/name",
             "k8s-app")), *map(str, as_mapping(spec.get("selector")).values())]  # fmt: skip
    lowered = " ".join(words).lower()
    return next((console for console in CONSOLES if console in lowered), "")


@check("exposed-console", "Service")
def exposed_console(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    """A console Service of type LoadBalancer or NodePort, unless a LoadBalancer admits only
    listed source ranges (then it is not open to everyone)."""
    spec = as_mapping(obj.raw.get("spec"))
    kind = spec.get("type")
    console = _console_named(obj)
    if (
        kind not in EXTERNAL
        or not console
        or (kind == "LoadBalancer" and spec.get("loadBalancerSourceRanges"))
    ):
        return
    yield Violation(
        f"spec.type={kind} ({console})",
        f"the {console} console is reachable from outside the cluster",
        (replace("spec.type", "ClusterIP"),),
    )
