"""The recommendations and security controls, as data.

A recommendation decides the state of each resource of its types from the results of its
rules on that resource (any open failure: unhealthy; a pass: healthy; neither: not
applicable), or with one of the special evaluations: an image's open vulnerabilities at or
above the health threshold, a Docker host's or a Kubernetes node's failed CIS checks (at or
above it too), a running image's vulnerabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

from seawall.model import Severity

CIS = "cis-docker-1.6/"
K8S = "k8s/"


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    max_score: int


@dataclass(frozen=True)
class Recommendation:
    id: str
    title: str
    severity: Severity
    control: str
    resource_types: tuple[str, ...]
    description: str
    remediation: str
    rules: tuple[str, ...] = ()  # for rule-decided recommendations
    # rules, running-images, or the resource's own health: image-vulnerabilities,
    # host-configuration, node-configuration
    evaluation: str = "rules"


CONTROLS = (
    Control("remediate-vulnerabilities", "Remediate vulnerabilities", 6),
    Control("remediate-security-configurations", "Remediate security configurations", 4),
    Control("manage-access-and-permissions", "Manage access and permissions", 4),
)

RECOMMENDATIONS = (
    Recommendation(
        id="image-vulnerabilities",
        title="Container images should have vulnerability findings resolved",
        severity=Severity.HIGH,
        control="remediate-vulnerabilities",
        resource_types=("image",),
        evaluation="image-vulnerabilities",
        description="Images with known vulnerabilities at or above the health threshold give "
        "attackers a way in. Each finding says which package is affected and which version "
        "fixes it.",
        remediation="1. Open the image and sort its findings by severity.\n"
        "2. Upgrade each vulnerable package to its fixed version (the command is given), or "
        "rebuild on a newer base image when the package came from the base.\n"
        "3. Push the rebuilt image and scan it again; accepted risks go in an exception with "
        "a reason and an expiry.",
    ),
    Recommendation(
        id="running-vulnerable-images",
        title="Images with vulnerabilities should not run in production",
        severity=Severity.HIGH,
        control="remediate-vulnerabilities",
        resource_types=("workload", "container"),
        evaluation="running-images",
        description="A workload or container that runs an image with open vulnerabilities at "
        "or above the health threshold exposes them for real.",
        remediation="1. Rebuild the image with the fixes (see the image's findings).\n"
        "2. Roll the workload out with the new image digest.\n"
        "3. Enforce it at admission: the k8s/image-vulnerabilities policy in deny mode.",
    ),
    Recommendation(
        id="host-configuration",
        title="Vulnerabilities in container security configurations should be remediated",
        severity=Severity.HIGH,
        control="remediate-security-configurations",
        resource_types=("host",),
        evaluation="host-configuration",
        description="Docker hosts are assessed against the CIS Docker Benchmark; each failed "
        "check is a configuration weakness of the daemon, the host files, the images or the "
        "containers.",
        remediation="1. Open the host and review its failed checks by section.\n"
        "2. Apply each check's remediation (daemon.json settings, file permissions, container "
        "options); the evidence says what was seen.\n"
        "3. Run `seawall host audit --upload` again to confirm.",
    ),
    Recommendation(
        id="k8s-node-configuration",
        title="Kubernetes nodes should be configured according to the CIS benchmark",
        severity=Severity.HIGH,
        control="remediate-security-configurations",
        resource_types=("node",),
        evaluation="node-configuration",
        description="Kubernetes nodes are assessed against the CIS Kubernetes Benchmark: the "
        "control plane components and their files, etcd, and each node's kubelet and "
        "kube-proxy. A failed check is a weakness of the node (an anonymous kubelet API, an "
        "API server without authorization, a world-writable kubeconfig) that leads to the "
        "whole cluster.",
        remediation="1. Open the node and review its failed checks by benchmark section.\n"
        "2. Apply each check's remediation (a component's flag, its config file or static pod "
        "manifest, file permissions and ownership); the evidence says what was seen and "
        "where it was read.\n"
        "3. Restart the component if the check says so, then run `seawall k8s node-audit "
        "--cluster NAME --upload` on the node again to confirm.",
    ),
    Recommendation(
        id="k8s-version",
        title="Kubernetes clusters should be upgraded to a supported, non-vulnerable version",
        severity=Severity.HIGH,
        control="remediate-vulnerabilities",
        resource_types=("cluster",),
        rules=(f"{K8S}k8s-version-vulnerable", f"{K8S}k8s-version-end-of-life"),
        description="The Kubernetes version a cluster's API server reports is past its end "
        "of support, or published advisories for k8s.io/kubernetes affect it: each is a known "
        "way into the cluster that an upgrade closes.",
        remediation="1. Open the cluster: the finding lists the advisories and the release "
        "that fixes them.\n"
        "2. Upgrade the control plane one minor release at a time, then the nodes (kubeadm "
        "upgrade, or the provider's upgrade on a managed cluster).\n"
        "3. Scan the cluster again (`seawall k8s scan --kubeconfig ... --upload`).",
    ),
    Recommendation(
        id="k8s-control-plane-configuration",
        title="The Kubernetes control plane should be configured according to the CIS benchmark",
        severity=Severity.HIGH,
        control="remediate-security-configurations",
        resource_types=("workload",),
        rules=(
            f"{K8S}control-plane-anonymous-auth",
            f"{K8S}control-plane-admission-plugins",
            f"{K8S}control-plane-audit-logging",
            f"{K8S}control-plane-configuration",
        ),
        description="The control plane's flags, as the API server lists its static pods in "
        "kube-system: anonymous access, admission plugins, audit logging, TLS between the "
        "components, profiling, bind addresses, etcd's certificates (the CIS Kubernetes "
        "Benchmark's flag checks).",
        remediation="1. Open the control plane pod: each finding names its CIS check and the "
        "flag.\n"
        "2. Change the flag in the component's static pod manifest (kubeadm: the "
        "ClusterConfiguration's extraArgs, so that upgrades keep it); the finding carries "
        "the JSON patch of the command line.\n"
        "3. Scan the cluster again once the kubelet has restarted the pod.",
    ),
    Recommendation(
        id="privileged-containers",
        title="Privileged containers should be avoided",
        severity=Severity.HIGH,
        control="manage-access-and-permissions",
        resource_types=("workload", "container"),
        rules=(f"{K8S}pss-baseline-privileged", f"{CIS}5.5"),
        description="A privileged container has every capability and all host devices: "
        "escaping to the node is trivial.",
        remediation="Remove securityContext.privileged (Kubernetes) or --privileged (Docker); "
        "grant only the capabilities the workload needs.",
    ),
    Recommendation(
        id="root-containers",
        title="Running containers as root user should be avoided",
        severity=Severity.MEDIUM,
        control="manage-access-and-permissions",
        resource_types=("workload", "container"),
        rules=(f"{K8S}pss-restricted-run-as-non-root", f"{CIS}4.1"),
        description="A process running as root inside the container is root on the host once "
        "it escapes, and can change anything in the container.",
        remediation="Set runAsNonRoot: true and a non-zero runAsUser (Kubernetes), or USER in "
        "the Dockerfile / --user (Docker).",
    ),
    Recommendation(
        id="immutable-root-filesystem",
        title="Immutable (read-only) root filesystem should be enforced for containers",
        severity=Severity.MEDIUM,
        control="remediate-security-configurations",
        resource_types=("workload", "container"),
        rules=(f"{K8S}bp-read-only-root-filesystem", f"{CIS}5.13"),
        description="A writable root filesystem lets an intruder drop tools and change "
        "binaries in the running container.",
        remediation="Set securityContext.readOnlyRootFilesystem: true (Kubernetes) or run with "
        "--read-only (Docker); mount emptyDir or tmpfs volumes where writes are needed.",
    ),
    Recommendation(
        id="resource-limits",
        title="Container CPU and memory limits should be enforced",
        severity=Severity.MEDIUM,
        control="remediate-security-configurations",
        resource_types=("workload", "container"),
        rules=(f"{K8S}bp-resource-limits", f"{CIS}5.11", f"{CIS}5.12"),
        description="Without limits one container can starve the node (a denial of service, "
        "or the cost of a crypto miner).",
        remediation="Set resources.limits.cpu and .memory on every container (Kubernetes), or "
        "--memory and --cpu-shares (Docker).",
    ),
    Recommendation(
        id="trusted-registries",
        title="Container images should be deployed from trusted registries only",
        severity=Severity.HIGH,
        control="remediate-security-configurations",
        resource_types=("workload",),
        rules=(f"{K8S}image-trusted-registry",),
        description="Images from registries the organisation does not control may carry "
        "anything; trusted registries are scanned on push.",
        remediation="Push the image to a trusted registry and reference it from there; list "
        "the trusted registries in the policy settings.",
    ),
    Recommendation(
        id="allowed-capabilities",
        title="Kubernetes cluster containers should only use allowed capabilities",
        severity=Severity.HIGH,
        control="manage-access-and-permissions",
        resource_types=("workload",),
        rules=(f"{K8S}bp-allowed-capabilities", f"{K8S}pss-baseline-capabilities"),
        description="Capabilities beyond the runtime's default set (SYS_ADMIN, NET_ADMIN, "
        "SYS_PTRACE, ...) give kernel powers that lead to container escape.",
        remediation="Drop ALL capabilities and add back only those the workload needs, within "
        "the allowed list.",
    ),
)

BY_ID = {r.id: r for r in RECOMMENDATIONS}
CONTROL_BY_ID = {c.id: c for c in CONTROLS}
