"""deploy/kubernetes: every overlay renders, is valid for Kubernetes (strict schemas), is
hardened, is wired together, and runs Seawall with flags Seawall has."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from typing import Any

import kubernetes_validate
import pytest

from tests.deploy.conftest import (
    DOCS,
    OVERLAYS,
    RENDERS,
    Rendered,
    containers,
    pod_labels,
    pod_spec,
)

NAMESPACE = "seawall"
# The oldest Kubernetes still supported upstream when this was written, and the newest the
# installed kubernetes-validate knows.
K8S_VERSIONS = ("1.31.0", kubernetes_validate.latest_version())

# Objects the operator creates (docs/deployment.md "Secrets"): never in the render, so no
# credential is ever committed. Each must be named in the docs.
USER_PROVIDED = {
    "Secret": {
        "seawall-database",
        "seawall-broker",
        "seawall-agent-token",
        "seawall-admission-tls",
        "seawall-postgres",
        "seawall-rabbitmq",
    },
}

# The one pod allowed outside the restricted profile, and exactly what it may do
# (docs/deployment.md "Exceptions").
HOST_AGENT = "seawall-host-agent"
HOST_AGENT_HOST_PATHS = {
    "/var/run/docker.sock": ("/var/run/docker.sock", False),
    "/etc": ("/host/etc", True),
    "/var/lib/docker": ("/host/var/lib/docker", True),
}

SEAWALL_IMAGE = re.compile(r"(^|/)seawall(:|@)")


def _all(renders: dict[str, Rendered]) -> list[tuple[str, Rendered]]:
    return list(renders.items())


@pytest.fixture(params=RENDERS)
def rendered(request: pytest.FixtureRequest, renders: dict[str, Rendered]) -> Rendered:
    return renders[request.param]


# --- rendering and schemas -------------------------------------------------------------


def test_every_overlay_renders_the_seawall_components(rendered: Rendered) -> None:
    names = rendered.names("Deployment") | rendered.names("DaemonSet")
    assert {"seawall-center", "seawall-admission", "seawall-cluster-agent", HOST_AGENT} <= names
    assert rendered.names("Namespace") == {NAMESPACE}
    for obj in rendered.objects:
        if obj["kind"] not in {
            "Namespace",
            "ClusterRole",
            "ClusterRoleBinding",
            "ValidatingWebhookConfiguration",
        }:
            assert obj["metadata"].get("namespace") == NAMESPACE, obj["metadata"]["name"]


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_object_is_valid_for_kubernetes(rendered: Rendered, version: str) -> None:
    errors = []
    for obj in rendered.objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {exc.path}")
    assert not errors, "\n".join(errors)


def test_no_secret_is_rendered(rendered: Rendered) -> None:
    assert rendered.of_kind("Secret") == []


# --- hardening -------------------------------------------------------------------------


def _effective(container: dict[str, Any], pod: dict[str, Any], key: str) -> Any:
    value = container.get("securityContext", {}).get(key)
    return pod.get("securityContext", {}).get(key) if value is None else value


def test_every_pod_is_hardened(rendered: Rendered) -> None:
    problems = []
    for workload in rendered.workloads():
        name = workload["metadata"]["name"]
        pod = pod_spec(workload)
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(field):
                problems.append(f"{name}: {field}")
        seccomp = pod.get("securityContext", {}).get("seccompProfile", {}).get("type")
        if seccomp != "RuntimeDefault":
            problems.append(f"{name}: seccompProfile {seccomp}")
        for c in containers(workload):
            where = f"{name}/{c['name']}"
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation not false")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem not true")
            if sc.get("privileged"):
                problems.append(f"{where}: privileged")
            caps = sc.get("capabilities", {})
            if caps.get("drop") != ["ALL"] or caps.get("add"):
                problems.append(f"{where}: capabilities {caps}")
            user = _effective(c, pod, "runAsUser")
            if not isinstance(user, int):
                problems.append(f"{where}: runAsUser {user!r} not numeric")
            elif name == HOST_AGENT:
                if user != 0 or _effective(c, pod, "runAsNonRoot") is not False:
                    problems.append(f"{where}: the host agent's documented exception is uid 0")
            elif user == 0 or _effective(c, pod, "runAsNonRoot") is not True:
                problems.append(f"{where}: runs as root (runAsUser {user})")
            resources = c.get("resources", {})
            for kind in ("requests", "limits"):
                if set(resources.get(kind, {})) != {"cpu", "memory"}:
                    problems.append(f"{where}: {kind} {resources.get(kind)}")
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in c:
                    problems.append(f"{where}: no {probe}")
            image = c["image"]
            tag = image.rsplit("@", 1)[0].rpartition(":")[2] if ":" in image else ""
            if "@sha256:" not in image and (not tag or tag == "latest" or "/" in tag):
                problems.append(f"{where}: image {image} is not pinned")
    assert not problems, "\n".join(problems)


def test_host_paths_are_only_the_host_agents_documented_ones(rendered: Rendered) -> None:
    for workload in rendered.workloads():
        name = workload["metadata"]["name"]
        pod = pod_spec(workload)
        host_paths = {
            v["name"]: v["hostPath"]["path"] for v in pod.get("volumes", []) if "hostPath" in v
        }
        if name != HOST_AGENT:
            assert host_paths == {}, name
            continue
        assert sorted(host_paths.values()) == sorted(HOST_AGENT_HOST_PATHS)
        mounts = {m["name"]: m for c in containers(workload) for m in c.get("volumeMounts", [])}
        for volume, path in host_paths.items():
            mount_path, read_only = HOST_AGENT_HOST_PATHS[path]
            assert mounts[volume]["mountPath"] == mount_path
            assert mounts[volume].get("readOnly", False) is read_only, volume
        # no Kubernetes credentials where they are not used
        assert pod["automountServiceAccountToken"] is False


def test_service_account_tokens_only_where_the_api_is_read(rendered: Rendered) -> None:
    readers = {"seawall-cluster-agent", "seawall-admission"}
    for workload in rendered.workloads():
        name = workload["metadata"]["name"]
        assert pod_spec(workload).get("automountServiceAccountToken") is (name in readers), name


# --- wiring ----------------------------------------------------------------------------


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_workload_selectors_match_their_pod_labels(rendered: Rendered) -> None:
    for workload in rendered.workloads():
        selector = workload["spec"]["selector"]["matchLabels"]
        assert _matches(selector, pod_labels(workload)), workload["metadata"]["name"]


def test_services_select_pods_and_their_ports(rendered: Rendered) -> None:
    for service in rendered.of_kind("Service"):
        selected = [
            w for w in rendered.workloads() if _matches(service["spec"]["selector"], pod_labels(w))
        ]
        assert selected, f"Service {service['metadata']['name']} selects no pod"
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            for workload in selected:
                ports = [p for c in containers(workload) for p in c.get("ports", [])]
                assert any(target in (p.get("name"), p["containerPort"]) for p in ports), (
                    f"Service {service['metadata']['name']} targets {target!r}, "
                    f"which {workload['metadata']['name']} does not expose"
                )


def test_policies_and_budgets_select_pods(rendered: Rendered) -> None:
    for obj in rendered.of_kind("NetworkPolicy", "PodDisruptionBudget"):
        key = "podSelector" if obj["kind"] == "NetworkPolicy" else "selector"
        selector = obj["spec"][key].get("matchLabels", {})
        if not selector:  # {}: every pod of the namespace
            continue
        assert any(_matches(selector, pod_labels(w)) for w in rendered.workloads()), obj[
            "metadata"
        ]["name"]
        for rule in obj["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                labels = peer["podSelector"]["matchLabels"]
                assert any(_matches(labels, pod_labels(w)) for w in rendered.workloads()), peer


def _references(workload: dict[str, Any]) -> set[tuple[str, str]]:
    pod = pod_spec(workload)
    refs = {("ServiceAccount", pod.get("serviceAccountName", "default"))}
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            refs.add(("Secret", volume["secret"]["secretName"]))
        if "configMap" in volume:
            refs.add(("ConfigMap", volume["configMap"]["name"]))
        if "persistentVolumeClaim" in volume:
            refs.add(("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]))
    for c in containers(workload):
        for source in c.get("envFrom", []):
            if "configMapRef" in source:
                refs.add(("ConfigMap", source["configMapRef"]["name"]))
            if "secretRef" in source:
                refs.add(("Secret", source["secretRef"]["name"]))
        for env in c.get("env", []):
            ref = env.get("valueFrom", {})
            if "secretKeyRef" in ref:
                refs.add(("Secret", ref["secretKeyRef"]["name"]))
            if "configMapKeyRef" in ref:
                refs.add(("ConfigMap", ref["configMapKeyRef"]["name"]))
    return refs


def test_every_reference_exists_or_is_documented_as_user_provided(rendered: Rendered) -> None:
    docs = DOCS.read_text()
    missing = []
    for workload in rendered.workloads():
        for kind, name in sorted(_references(workload)):
            if rendered.get(kind, name) is not None:
                continue
            if name in USER_PROVIDED.get(kind, set()) and f"`{name}`" in docs:
                continue
            missing.append(f"{workload['metadata']['name']} -> {kind}/{name}")
    assert not missing, "neither rendered nor documented as user-provided:\n" + "\n".join(missing)


def test_user_provided_secrets_are_documented() -> None:
    docs = DOCS.read_text()
    for name in USER_PROVIDED["Secret"]:
        assert f"`{name}`" in docs, name


def test_role_bindings_point_at_existing_roles_and_accounts(rendered: Rendered) -> None:
    for binding in rendered.of_kind("ClusterRoleBinding", "RoleBinding"):
        assert rendered.get(binding["roleRef"]["kind"], binding["roleRef"]["name"])
        for subject in binding["subjects"]:
            assert subject["kind"] == "ServiceAccount"
            assert subject["namespace"] == NAMESPACE
            assert rendered.get("ServiceAccount", subject["name"]), subject


def test_read_only_cluster_roles(rendered: Rendered) -> None:
    for role in rendered.of_kind("ClusterRole", "Role"):
        for rule in role["rules"]:
            assert set(rule["verbs"]) <= {"get", "list", "watch"}, role["metadata"]["name"]
            assert "*" not in rule["resources"] and "*" not in rule["apiGroups"]
            assert "secrets" not in rule["resources"]


def test_agents_report_to_the_center_service(rendered: Rendered) -> None:
    config = rendered.get("ConfigMap", "seawall-config")
    assert config is not None
    service = rendered.get("Service", "seawall-center")
    assert service is not None
    port = service["spec"]["ports"][0]["port"]
    assert config["data"]["SEAWALL_CENTER"] == f"http://seawall-center:{port}"


def test_webhook_points_at_its_service(rendered: Rendered) -> None:
    (config,) = rendered.of_kind("ValidatingWebhookConfiguration")
    for hook in config["webhooks"]:
        ref = hook["clientConfig"]["service"]
        service = rendered.get("Service", ref["name"])
        assert service is not None and ref["namespace"] == NAMESPACE
        assert ref["port"] in [p["port"] for p in service["spec"]["ports"]]
        excluded = hook["namespaceSelector"]["matchExpressions"][0]
        assert excluded["key"] == "kubernetes.io/metadata.name"
        assert excluded["operator"] == "NotIn"
        assert {"kube-system", NAMESPACE} <= set(excluded["values"])


# --- the commands the containers run ---------------------------------------------------


def _seawall_containers(rendered: Rendered) -> list[tuple[str, dict[str, Any]]]:
    return [
        (w["metadata"]["name"], c)
        for w in rendered.workloads()
        for c in containers(w)
        if SEAWALL_IMAGE.search(c["image"])
    ]


def _command(args: list[str]) -> tuple[str, ...]:
    return ("admission", "serve") if args[:2] == ["admission", "serve"] else (args[0],)


@cache
def _help(command: tuple[str, ...]) -> str | None:
    """``seawall COMMAND --help``, or None when this Seawall has no such command."""
    proc = subprocess.run(
        [sys.executable, "-m", "seawall", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        assert "No such command" in proc.stderr, proc.stderr
        return None
    return proc.stdout


def _flag_cases() -> list[tuple[str, str, str, str]]:
    """(render, workload, command, flag) for every flag of every Seawall container."""
    from tests.deploy.conftest import KUSTOMIZE_ROOT, kustomize

    cases = []
    for name in OVERLAYS:
        rendered = Rendered(name, kustomize(KUSTOMIZE_ROOT / name))
        for workload, c in _seawall_containers(rendered):
            command = _command(c["args"])
            for arg in c["args"][len(command) :]:
                if arg.startswith("--"):
                    cases.append((name, workload, " ".join(command), arg.split("=", 1)[0]))
    return sorted(set(cases))


@pytest.mark.parametrize(("render", "workload", "command", "flag"), _flag_cases())
def test_container_flags_exist(render: str, workload: str, command: str, flag: str) -> None:
    text = _help(tuple(command.split()))
    assert text is not None, f"{workload} in {render}: there is no `seawall {command}`"
    flags = set(re.findall(r"(?<![\w-])--[a-z0-9][a-z0-9-]*", text))
    assert flag in flags, f"{workload} in {render}: `seawall {command}` has no {flag}"


def test_container_commands_are_the_documented_ones(rendered: Rendered) -> None:
    commands = {(w, _command(c["args"])) for w, c in _seawall_containers(rendered)}
    expected = {
        ("seawall-center", ("serve",)),
        ("seawall-admission", ("admission", "serve")),
        ("seawall-cluster-agent", ("agent",)),
        (HOST_AGENT, ("agent",)),
    }
    if rendered.name != "overlays/embedded":
        expected.add(("seawall-worker", ("worker",)))
    assert commands == expected
    for workload, c in _seawall_containers(rendered):
        args = c["args"]
        if workload == "seawall-cluster-agent":
            assert "--in-cluster" in args
        if workload == HOST_AGENT:
            assert args[args.index("--interval") + 1] == "1h"
            assert args[args.index("--root") + 1] == "/host"


# --- the overlays ----------------------------------------------------------------------


def _deployment(rendered: Rendered, name: str) -> dict[str, Any]:
    deployment = rendered.get("Deployment", name)
    assert deployment is not None, name
    return deployment


def test_webhook_starts_in_audit(renders: dict[str, Rendered]) -> None:
    for name in OVERLAYS:
        rendered = renders[name]
        (config,) = rendered.of_kind("ValidatingWebhookConfiguration")
        assert [h["failurePolicy"] for h in config["webhooks"]] == ["Ignore"]
        args = _deployment(rendered, "seawall-admission")["spec"]["template"]["spec"]["containers"][
            0
        ]["args"]
        assert args[args.index("--mode") + 1] == "audit"
        assert args[args.index("--failure-policy") + 1] == "ignore"
        exempt = {args[i + 1] for i, a in enumerate(args) if a == "--exempt-namespace"}
        assert exempt == {"kube-system", NAMESPACE}


def test_admission_enforce_component_switches_to_deny(renders: dict[str, Rendered]) -> None:
    rendered = renders["production+admission-enforce"]
    (config,) = rendered.of_kind("ValidatingWebhookConfiguration")
    assert [h["failurePolicy"] for h in config["webhooks"]] == ["Fail"]
    args = _deployment(rendered, "seawall-admission")["spec"]["template"]["spec"]["containers"][0][
        "args"
    ]
    assert args[args.index("--mode") + 1] == "enforce"
    assert args[args.index("--failure-policy") + 1] == "fail"


def test_embedded_is_one_center_on_sqlite_with_a_volume(renders: dict[str, Rendered]) -> None:
    rendered = renders["overlays/embedded"]
    assert rendered.get("Deployment", "seawall-worker") is None
    assert not rendered.of_kind("StatefulSet")
    center = _deployment(rendered, "seawall-center")
    assert center["spec"]["replicas"] == 1
    assert center["spec"]["strategy"] == {"type": "Recreate"}
    (container,) = center["spec"]["template"]["spec"]["containers"]
    assert "--database" not in container["args"] and "--broker" not in container["args"]
    secrets = {name for kind, name in _references(center) if kind == "Secret"}
    assert secrets == set()
    volumes = {v["name"]: v for v in center["spec"]["template"]["spec"]["volumes"]}
    claim = volumes["data"]["persistentVolumeClaim"]["claimName"]
    assert rendered.get("PersistentVolumeClaim", claim) is not None
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["data"] == "/var/lib/seawall"


def test_production_runs_two_centers_and_two_workers(renders: dict[str, Rendered]) -> None:
    rendered = renders["overlays/production"]
    for name in ("seawall-center", "seawall-worker"):
        deployment = _deployment(rendered, name)
        assert deployment["spec"]["replicas"] == 2
        assert deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert not rendered.of_kind("StatefulSet")  # bring your own database and broker
    pdb = rendered.get("PodDisruptionBudget", "seawall-center")
    assert pdb is not None and pdb["spec"]["maxUnavailable"] == 1


def test_evaluation_brings_the_reference_services(renders: dict[str, Rendered]) -> None:
    rendered = renders["overlays/evaluation"]
    assert rendered.names("StatefulSet") == {"seawall-postgres", "seawall-rabbitmq"}
    assert {"seawall-postgres", "seawall-rabbitmq"} <= rendered.names("Service")
    for name in ("seawall-postgres", "seawall-rabbitmq"):
        statefulset = rendered.get("StatefulSet", name)
        assert statefulset is not None
        assert statefulset["spec"]["serviceName"] == name
        assert statefulset["spec"]["volumeClaimTemplates"]
