"""RBAC and exposure: cluster-admin bindings, wildcard roles, exec and secret-reading
roles, anonymous subjects, an exposed Kubernetes dashboard and other exposed consoles."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from seawall.policy.builtin import CheckContext, Violation, add, check, remove, replace
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


def _grants(rule: Mapping[str, Any], resources: set[str], verbs: set[str], group: str = "") -> bool:
    """Whether the role's ``rule`` grants one of ``verbs`` on one of ``resources`` of the
    API ``group`` (the core group by default), wildcards included."""
    groups = _strings(rule.get("apiGroups"))
    if groups and not ({group, "*"} & set(groups)):
        return False
    return bool(set(_strings(rule.get("resources"))) & (resources | {"*"})) and bool(
        set(_strings(rule.get("verbs"))) & (verbs | {"*"})
    )


def _role_grant(
    obj: KubeObject, resources: set[str], verbs: set[str], what: str, *, named_ok: bool = False,
    group: str = "",
) -> Iterator[Violation]:  # fmt: skip
    """Each rule of the role granting ``verbs`` on ``resources`` (of API ``group``); with
    ``named_ok``, a rule limited to named objects (``resourceNames``) is not one."""
    if _is_builtin(obj):
        return
    for index, rule in _rules(obj):
        if named_ok and rule.get("resourceNames"):
            continue
        if _grants(rule, resources, verbs, group):
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


# Grants that hand out more than they say (CIS 5.1.8-5.1.13): (rule, API group, resources,
# verbs, what the role can then do). Impersonation and token requests limited to named
# identities (resourceNames) are what the remediation asks for: they pass.
_POWERFUL_GRANTS = (
    ("rbac-bind-escalate", "rbac.authorization.k8s.io", {"roles", "clusterroles"},
     {"bind", "escalate"}, "grant permissions it does not hold (bind, escalate)"),
    ("rbac-impersonate", "", {"users", "groups", "serviceaccounts"}, {"impersonate"},
     "act as other users, groups and service accounts"),
    ("rbac-create-persistent-volumes", "", {"persistentvolumes"}, {"create"},
     "create persistent volumes (hostPath ones expose the node's filesystem)"),
    ("rbac-nodes-proxy", "", {"nodes/proxy"}, {"get", "create", "update", "patch", "delete"},
     "reach every kubelet's API (exec in any pod, bypassing audit)"),
    ("rbac-approve-certificates", "certificates.k8s.io",
     {"certificatesigningrequests/approval"}, {"update", "patch"},
     "approve certificate signing requests (mint client certificates)"),
    ("rbac-webhook-configurations", "admissionregistration.k8s.io",
     {"validatingwebhookconfigurations", "mutatingwebhookconfigurations"},
     {"create", "update", "patch", "delete"},
     "change admission webhooks (see or rewrite every object sent to the API)"),
    ("rbac-serviceaccount-tokens", "", {"serviceaccounts/token"}, {"create"},
     "mint tokens for service accounts"),
)  # fmt: skip


_NAMED_OK = frozenset({"rbac-impersonate", "rbac-serviceaccount-tokens"})


def _powerful(rule_id: str, group: str, resources: set[str], verbs: set[str], what: str) -> None:
    @check(rule_id, *ROLES)
    def grant(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
        yield from _role_grant(obj, resources, verbs, what, group=group,
                               named_ok=rule_id in _NAMED_OK)  # fmt: skip


for _rule_id, _group, _resources, _verbs, _what in _POWERFUL_GRANTS:
    _powerful(_rule_id, _group, _resources, _verbs, _what)


@check("rbac-default-service-account", "ServiceAccount", *BINDINGS)
def default_service_account(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    """The ``default`` service account of a namespace is every pod's unless it names
    another: it must not mount its token by default, and no binding may grant it rights."""
    if obj.kind == "ServiceAccount":
        if obj.name == "default" and obj.raw.get("automountServiceAccountToken") is not False:
            value = obj.raw.get("automountServiceAccountToken")
            yield Violation(
                f"automountServiceAccountToken={'unset' if value is None else value}",
                "the default service account's token is mounted into every pod that names no other",
                (add("automountServiceAccountToken", False),),
            )
        return
    for index, subject in enumerate(_subjects(obj)):
        if subject.get("kind") == "ServiceAccount" and subject.get("name") == "default":
            yield Violation(
                f"subjects[{index}]=ServiceAccount {subject.get('namespace', '')}/default",
                "the binding grants its role to a default service account, so to every pod "
                "of that namespace",
                (remove(f"subjects[{index}]"),),
            )
