"""Node filesystems for the CIS Kubernetes node audit, built from tests/fixtures/k8s-node.

:func:`kubeadm_node` copies the kubeadm control-plane node, applies the modes kubeadm leaves
and writes the ``proc`` tree of the running components; the variant functions change it the
way an administrator would (flags in a manifest, a kubelet setting, a chmod), keeping the
files and the processes consistent: what a manifest says, the running process shows.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).parents[1] / "fixtures" / "k8s-node"
KUBEADM = FIXTURES / "kubeadm"
STATIC_PODS = {"etcd": 1376, "kube-apiserver": 1402, "kube-controller-manager": 1388,
               "kube-scheduler": 1391}  # fmt: skip
KUBELET_PID = 812
PROXY_PID = 2210
KUBELET_ARGV = [
    "/usr/bin/kubelet",
    "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
    "--kubeconfig=/etc/kubernetes/kubelet.conf",
    "--config=/var/lib/kubelet/config.yaml",
    "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock",
    "--pod-infra-container-image=registry.k8s.io/pause:3.10",
]
PROXY_ARGV = ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
              "--hostname-override=cp1"]  # fmt: skip
OTHERS = {1: ["/sbin/init"], 640: ["/usr/bin/containerd"], 701: ["sshd: /usr/sbin/sshd -D"]}


class NodeTree:
    """A node's root directory under construction."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, rel: str) -> Path:
        return self.root / rel.lstrip("/")

    def write(self, rel: str, text: str | bytes, mode: int = 0o644) -> None:
        path = self.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        path.chmod(mode)

    def chmod(self, rel: str, mode: int) -> None:
        self.path(rel).chmod(mode)

    def chown(self, rel: str, user: str, group: str) -> None:
        shutil.chown(self.path(rel), user=self._id("passwd", user), group=self._id("group", group))

    def _id(self, table: str, name: str) -> int:
        for line in self.path(f"etc/{table}").read_text().splitlines():
            fields = line.split(":")
            if fields[0] == name:
                return int(fields[2])
        raise KeyError(f"no {name} in the node's /etc/{table}")

    def add_user(self, name: str, uid: int) -> None:
        """A system user with its own group, as the etcd package creates."""
        with self.path("etc/passwd").open("a") as passwd:
            passwd.write(f"{name}:x:{uid}:{uid}:{name} user:/var/lib/{name}:/usr/sbin/nologin\n")
        with self.path("etc/group").open("a") as group:
            group.write(f"{name}:x:{uid}:\n")

    def edit_yaml(self, rel: str, change: Callable[[Any], None]) -> None:
        path = self.path(rel)
        mode = path.stat().st_mode & 0o7777
        document = yaml.safe_load(path.read_text())
        change(document)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        path.chmod(mode)

    # -- processes ------------------------------------------------------------------------

    def process(self, pid: int, argv: list[str], environ: dict[str, str] | None = None) -> None:
        """``proc/<pid>`` as the kernel shows a process: cmdline, comm (15 characters)."""
        self.write(f"proc/{pid}/cmdline", "\0".join(argv) + "\0")
        self.write(f"proc/{pid}/comm", argv[0].rsplit("/", 1)[-1][:15] + "\n")
        env = "".join(f"{k}={v}\0" for k, v in (environ or {"PATH": "/usr/bin"}).items())
        self.write(f"proc/{pid}/environ", env, mode=0o400)

    def argv(self, pid: int) -> list[str]:
        return self.path(f"proc/{pid}/cmdline").read_text().rstrip("\0").split("\0")

    # -- what administrators change ---------------------------------------------------------

    def manifest_flags(self, component: str, *, set_: dict[str, str] | None = None,
                       remove: tuple[str, ...] = ()) -> None:  # fmt: skip
        """Change a static pod's flags; the running process follows (the kubelet restarts
        the pod when its manifest changes)."""
        rel = f"etc/kubernetes/manifests/{component}.yaml"

        def change(pod: Any) -> None:
            command = pod["spec"]["containers"][0]["command"]
            kept = [c for c in command if c.split("=", 1)[0].lstrip("-") not in
                    {*remove, *(set_ or {})}]  # fmt: skip
            kept += [f"--{name}={value}" for name, value in (set_ or {}).items()]
            pod["spec"]["containers"][0]["command"] = kept

        self.edit_yaml(rel, change)
        if self.path(f"proc/{STATIC_PODS[component]}").exists():
            self._run_static_pod(component)

    def kubelet_config(self, **settings: Any) -> None:
        """Set (or with None, remove) top-level or dotted keys of the kubelet's config."""

        def change(config: Any) -> None:
            for dotted, value in settings.items():
                keys = dotted.split("__")
                node = config
                for key in keys[:-1]:
                    node = node.setdefault(key, {})
                if value is None:
                    node.pop(keys[-1], None)
                else:
                    node[keys[-1]] = value

        self.edit_yaml("var/lib/kubelet/config.yaml", change)

    def kubelet_extra_args(self, *args: str) -> None:
        """Flags in /etc/default/kubelet (KUBELET_EXTRA_ARGS), as the running kubelet shows."""
        self.write("etc/default/kubelet", f'KUBELET_EXTRA_ARGS="{" ".join(args)}"\n')
        if self.path(f"proc/{KUBELET_PID}").exists():
            self.process(KUBELET_PID, [*KUBELET_ARGV, *args])

    def proxy_config(self, **settings: Any) -> None:
        rel = f"proc/{PROXY_PID}/root/var/lib/kube-proxy/config.conf"
        self.edit_yaml(rel, lambda config: config.update(settings))

    def _run_static_pod(self, component: str) -> None:
        pod = yaml.safe_load(self.path(f"etc/kubernetes/manifests/{component}.yaml").read_text())
        container = pod["spec"]["containers"][0]
        env = {e["name"]: e["value"] for e in container.get("env") or []}
        self.process(STATIC_PODS[component], container["command"], env or None)


def _apply_modes(root: Path, listing: Path) -> None:
    rules = []
    for line in listing.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            mode, _owner, pattern = line.split()  # owners: all root:root
            rules.append((int(mode, 8), pattern))
    for path in [root, *root.rglob("*")]:
        rel = str(path.relative_to(root))
        mode = 0o755 if path.is_dir() else 0o644
        for wanted, pattern in rules:
            if fnmatch.fnmatch(rel, pattern):
                mode = wanted
        os.chown(path, 0, 0)
        path.chmod(mode)


def kubeadm_node(directory: Path, *, running: bool = True) -> NodeTree:
    """A control-plane node as kubeadm v1.32 leaves it; ``running``: with its ``proc``
    tree (the components up), else files only (a node's disk mounted elsewhere)."""
    root = directory / "root"
    shutil.copytree(KUBEADM / "node", root, symlinks=True)
    _apply_modes(root, KUBEADM / "modes")
    tree = NodeTree(root)
    if running:
        for component in STATIC_PODS:
            tree._run_static_pod(component)
        tree.process(KUBELET_PID, KUBELET_ARGV)
        tree.process(PROXY_PID, PROXY_ARGV)
        shutil.copytree(KUBEADM / "kube-proxy-pod", root / f"proc/{PROXY_PID}/root")
        for pid, argv in OTHERS.items():
            tree.process(pid, argv)
    return tree


AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
  - RequestReceived
rules:
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
      - group: ""
        resources: ["endpoints", "services", "services/status"]
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets", "configmaps"]
      - group: authentication.k8s.io
        resources: ["tokenreviews"]
  - level: Metadata
    resources:
      - group: ""
        resources: ["pods/exec", "pods/portforward", "pods/proxy", "services/proxy"]
  - level: Request
    verbs: ["create", "update", "patch", "delete"]
    resources:
      - group: ""
        resources: ["pods"]
      - group: apps
        resources: ["deployments"]
  - level: Metadata
"""
ENCRYPTION = """apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: c2Vhd2FsbC10ZXN0LWtleS0zMi1ieXRlcy1sb25nISE=
      - identity: {}
"""
EVENT_LIMITS = """apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
  - name: EventRateLimit
    path: /etc/kubernetes/event-rate-limit.yaml
"""
API_CIPHERS = ",".join((
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
))  # fmt: skip


def hardened(tree: NodeTree) -> NodeTree:
    """kubeadm plus what the benchmark asks: every recommendation a node can carry."""
    tree.write("etc/kubernetes/audit-policy.yaml", AUDIT_POLICY, mode=0o600)
    tree.write("etc/kubernetes/encryption-config.yaml", ENCRYPTION, mode=0o600)
    tree.write("etc/kubernetes/admission-config.yaml", EVENT_LIMITS, mode=0o600)
    tree.manifest_flags("kube-apiserver", set_={
        "anonymous-auth": "false",
        "profiling": "false",
        "enable-admission-plugins":
            "NodeRestriction,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs",
        "admission-control-config-file": "/etc/kubernetes/admission-config.yaml",
        "kubelet-certificate-authority": "/etc/kubernetes/pki/ca.crt",
        "audit-log-path": "/var/log/kubernetes/audit/audit.log",
        "audit-log-maxage": "30",
        "audit-log-maxbackup": "10",
        "audit-log-maxsize": "100",
        "audit-policy-file": "/etc/kubernetes/audit-policy.yaml",
        "encryption-provider-config": "/etc/kubernetes/encryption-config.yaml",
        "tls-cipher-suites": API_CIPHERS,
        "service-account-extend-token-expiration": "false",
        "request-timeout": "300s",
    })  # fmt: skip
    tree.manifest_flags(
        "kube-controller-manager", set_={"profiling": "false", "terminated-pod-gc-threshold": "10"}
    )
    tree.manifest_flags("kube-scheduler", set_={"profiling": "false"})
    tree.add_user("etcd", 996)
    for rel in ("var/lib/etcd", "var/lib/etcd/member", "var/lib/etcd/member/snap",
                "var/lib/etcd/member/wal"):  # fmt: skip
        tree.chown(rel, "etcd", "etcd")
    tree.kubelet_config(
        tlsCipherSuites=["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                         "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
        podPidsLimit=4096,
        seccompDefault=True,
        serverTLSBootstrap=True,
        protectKernelDefaults=True,
        streamingConnectionIdleTimeout="5m",
    )  # fmt: skip
    cni_state = "var/lib/cni/networks/cbr0"
    for rel in ("var/lib/kubelet/config.yaml", "usr/lib/systemd/system/kubelet.service",
                "usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
                "etc/cni/net.d/10-flannel.conflist", f"{cni_state}/10.244.0.2",
                f"{cni_state}/last_reserved_ip.0", f"{cni_state}/lock"):  # fmt: skip
        tree.chmod(rel, 0o600)
    tree.chmod("var/lib/cni/networks/cbr0", 0o700)
    if tree.path(f"proc/{PROXY_PID}").exists():
        tree.proxy_config(metricsBindAddress="127.0.0.1:10249")
    return tree


def careless(tree: NodeTree) -> NodeTree:
    """kubeadm after careless hands: open flags, loose modes, a shared CA."""
    tree.write("etc/kubernetes/tokens.csv", "s3cr3t,admin,1,system:masters\n")
    identity_first = ENCRYPTION.replace("      - identity: {}\n", "").replace(
        "      - aescbc:", "      - identity: {}\n      - aescbc:"
    )
    tree.write("etc/kubernetes/encryption-config.yaml", identity_first)
    tree.manifest_flags("kube-apiserver", set_={
        "anonymous-auth": "true",
        "authorization-mode": "AlwaysAllow",
        "token-auth-file": "/etc/kubernetes/tokens.csv",
        "enable-admission-plugins": "AlwaysAdmit",
        "disable-admission-plugins": "ServiceAccount,NamespaceLifecycle",
        "service-account-lookup": "false",
        "profiling": "true",
        "audit-log-path": "/var/log/apiserver.log",
        "audit-log-maxage": "7",
        "encryption-provider-config": "/etc/kubernetes/encryption-config.yaml",
        "tls-cipher-suites": "TLS_RSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    }, remove=("kubelet-client-key", "etcd-cafile", "etcd-certfile", "etcd-keyfile",
               "tls-cert-file", "tls-private-key-file", "client-ca-file"))  # fmt: skip
    tree.manifest_flags("kube-controller-manager", set_={
        "bind-address": "0.0.0.0",
        "use-service-account-credentials": "false",
        "feature-gates": "RotateKubeletServerCertificate=false",
    }, remove=("root-ca-file", "service-account-private-key-file"))  # fmt: skip
    tree.manifest_flags("kube-scheduler", set_={"profiling": "true"}, remove=("bind-address",))
    tree.manifest_flags("etcd", set_={
        "client-cert-auth": "false",
        "auto-tls": "true",
        "peer-auto-tls": "true",
        "peer-client-cert-auth": "false",
        "trusted-ca-file": "/etc/kubernetes/pki/ca.crt",
    }, remove=("peer-key-file", "cert-file", "key-file"))  # fmt: skip
    for rel in ("etc/kubernetes/manifests/kube-apiserver.yaml", "etc/kubernetes/admin.conf",
                "etc/kubernetes/scheduler.conf", "etc/kubernetes/kubelet.conf",
                "etc/kubernetes/pki/ca.key", "etc/cni/net.d/10-flannel.conflist"):  # fmt: skip
        tree.chmod(rel, 0o644)
    tree.chmod("etc/kubernetes/controller-manager.conf", 0o640)
    manifests = "etc/kubernetes/manifests"
    tree.chmod(f"{manifests}/kube-controller-manager.yaml", 0o640)
    tree.chmod(f"{manifests}/kube-scheduler.yaml", 0o604)
    tree.chmod(f"{manifests}/etcd.yaml", 0o660)
    tree.chown(f"{manifests}/kube-apiserver.yaml", "ubuntu", "root")
    tree.chown(f"{manifests}/kube-controller-manager.yaml", "root", "ubuntu")
    tree.chown(f"{manifests}/kube-scheduler.yaml", "ubuntu", "ubuntu")
    tree.chown("etc/kubernetes/scheduler.conf", "ubuntu", "root")
    tree.chown("etc/kubernetes/controller-manager.conf", "root", "ubuntu")
    tree.chown("etc/kubernetes/kubelet.conf", "ubuntu", "ubuntu")
    tree.chown("etc/cni/net.d/10-flannel.conflist", "ubuntu", "ubuntu")
    tree.chmod("var/lib/etcd", 0o755)
    tree.chmod("etc/kubernetes/pki/ca.crt", 0o666)
    tree.chown("etc/kubernetes/admin.conf", "ubuntu", "ubuntu")
    tree.chown(f"{manifests}/etcd.yaml", "ubuntu", "root")
    tree.chown("etc/kubernetes/pki/front-proxy-ca.key", "root", "ubuntu")
    tree.chown("usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf", "ubuntu", "ubuntu")
    tree.kubelet_config(
        authentication__anonymous__enabled=True,
        authorization__mode="AlwaysAllow",
        authentication__x509__clientCAFile=None,
        readOnlyPort=10255,
        makeIPTablesUtilChains=False,
        rotateCertificates=False,
        featureGates={"RotateKubeletServerCertificate": False},
        tlsCipherSuites=["TLS_RSA_WITH_AES_128_CBC_SHA"],
        podPidsLimit=-1,
        seccompDefault=False,
    )  # fmt: skip
    tree.chmod("var/lib/kubelet/config.yaml", 0o666)
    tree.chown("var/lib/kubelet/config.yaml", "root", "ubuntu")
    tree.kubelet_extra_args("--hostname-override=cp1-public",
                            "--streaming-connection-idle-timeout=0")  # fmt: skip
    if tree.path(f"proc/{PROXY_PID}").exists():
        tree.proxy_config(metricsBindAddress="0.0.0.0:10249")
    return tree


def worker(tree: NodeTree) -> NodeTree:
    """What ``kubeadm join`` leaves on a worker: the kubelet's files and the cluster's CA,
    no control plane (an empty manifests directory, no admin or component kubeconfigs)."""
    for name in ("admin", "super-admin", "controller-manager", "scheduler"):
        tree.path(f"etc/kubernetes/{name}.conf").unlink()
    for manifest in tree.path("etc/kubernetes/manifests").iterdir():
        manifest.unlink()
    for entry in tree.path("etc/kubernetes/pki").iterdir():
        if entry.name != "ca.crt":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.rmtree(tree.path("var/lib/etcd"))
    for pid in STATIC_PODS.values():
        if tree.path(f"proc/{pid}").exists():
            shutil.rmtree(tree.path(f"proc/{pid}"))
    tree.write("etc/hostname", "worker1\n")
    return tree


EKS_KUBELET_CONFIG = """{
    "kind": "KubeletConfiguration",
    "apiVersion": "kubelet.config.k8s.io/v1beta1",
    "address": "0.0.0.0",
    "authentication": {
        "anonymous": {"enabled": false},
        "webhook": {"cacheTTL": "2m0s", "enabled": true},
        "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}
    },
    "authorization": {
        "mode": "Webhook",
        "webhook": {"cacheAuthorizedTTL": "5m0s", "cacheUnauthorizedTTL": "30s"}
    },
    "clusterDomain": "cluster.local",
    "hairpinMode": "hairpin-veth",
    "readOnlyPort": 0,
    "cgroupDriver": "systemd",
    "cgroupRoot": "/",
    "featureGates": {"RotateKubeletServerCertificate": true},
    "protectKernelDefaults": true,
    "serializeImagePulls": false,
    "serverTLSBootstrap": true,
    "tlsCipherSuites": [
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_GCM_SHA256"
    ],
    "clusterDNS": ["10.100.0.10"],
    "evictionHard": {"memory.available": "100Mi", "nodefs.available": "10%"},
    "kubeReserved": {"cpu": "70m", "ephemeral-storage": "1Gi", "memory": "442Mi"},
    "containerRuntimeEndpoint": "unix:///run/containerd/containerd.sock",
    "providerID": "aws:///us-west-2a/i-0123456789abcdef0"
}
"""
EKS_KUBELET_ARGV = [
    "/usr/bin/kubelet", "--config", "/etc/kubernetes/kubelet/config.json",
    "--config-dir", "/etc/kubernetes/kubelet/config.json.d",
    "--kubeconfig", "/var/lib/kubelet/kubeconfig",
    "--image-credential-provider-bin-dir", "/etc/eks/image-credential-provider",
    "--image-credential-provider-config", "/etc/eks/image-credential-provider/config.json",
    "--node-ip=192.168.14.7", "--cloud-provider=external",
    "--hostname-override=ip-192-168-14-7.us-west-2.compute.internal",
]  # fmt: skip


def eks_node(directory: Path) -> NodeTree:
    """An EKS (Amazon Linux 2023, nodeadm) worker: the kubelet's JSON config with a
    drop-in directory, flags given as separate words, the cluster CA, kube-proxy as a pod."""
    tree = NodeTree(directory / "root")
    tree.write("etc/hostname", "ip-192-168-14-7.us-west-2.compute.internal\n")
    tree.write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
    tree.write("etc/group", "root:x:0:\n")
    tree.write("etc/eks/image-credential-provider/config.json", '{"apiVersion": "v1"}\n')
    tree.write("etc/kubernetes/kubelet/config.json", EKS_KUBELET_CONFIG, mode=0o644)
    tree.write("etc/kubernetes/kubelet/config.json.d/40-nodeadm.conf",
               '{"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",'
               ' "podPidsLimit": 4096}\n', mode=0o644)  # fmt: skip
    tree.write("var/lib/kubelet/kubeconfig", KUBEADM.joinpath(
        "node/etc/kubernetes/kubelet.conf").read_text(), mode=0o600)  # fmt: skip
    tree.write("etc/kubernetes/pki/ca.crt", KUBEADM.joinpath(
        "node/etc/kubernetes/pki/ca.crt").read_text(), mode=0o644)  # fmt: skip
    tree.write("etc/systemd/system/kubelet.service", "[Service]\nExecStart=/usr/bin/kubelet "
               "$NODEADM_KUBELET_ARGS\n", mode=0o644)  # fmt: skip
    tree.process(KUBELET_PID, EKS_KUBELET_ARGV)
    hostname = "ip-192-168-14-7.us-west-2.compute.internal"
    tree.process(PROXY_PID, ["kube-proxy", "--v=2", "--config=/var/lib/kube-proxy-config/config",
                             f"--hostname-override={hostname}"])  # fmt: skip
    tree.write(f"proc/{PROXY_PID}/root/var/lib/kube-proxy-config/config",
               "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"
               "metricsBindAddress: 0.0.0.0:10249\n")  # fmt: skip
    return tree


K3S = "var/lib/rancher/k3s"
K3S_PID = 1201
K3S_UNIT = "etc/systemd/system/k3s.service"


def k3s_kubelet_defaults(*, protect_kernel_defaults: bool = False) -> str:
    """The kubelet drop-in k3s writes at each start (pkg/daemons/agent: defaultKubeletConfig
    marshalled by sigs.k8s.io/yaml: sorted keys, zero values omitted, readOnlyPort too)."""
    agent = "/var/lib/rancher/k3s/agent"
    protect = "protectKernelDefaults: true\n" if protect_kernel_defaults else ""
    return f"""address: 0.0.0.0
apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 2m0s
    enabled: true
  x509:
    clientCAFile: {agent}/client-ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 5m0s
    cacheUnauthorizedTTL: 30s
cgroupDriver: cgroupfs
clusterDNS:
- 10.43.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: unix:///run/k3s/containerd/containerd.sock
cpuManagerReconcilePeriod: 10s
evictionHard:
  imagefs.available: 5%
  nodefs.available: 5%
evictionMinimumReclaim:
  imagefs.available: 10%
  nodefs.available: 10%
evictionPressureTransitionPeriod: 5m0s
failSwapOn: false
fileCheckFrequency: 20s
healthzBindAddress: 127.0.0.1
httpCheckFrequency: 20s
imageMinimumGCAge: 2m0s
kind: KubeletConfiguration
logging:
  flushFrequency: 5s
  format: text
nodeStatusReportFrequency: 5m0s
nodeStatusUpdateFrequency: 10s
{protect}resolvConf: /etc/resolv.conf
runtimeRequestTimeout: 2m0s
serializeImagePulls: false
staticPodPath: {agent}/pod-manifests
streamingConnectionIdleTimeout: 4h0m0s
syncFrequency: 1m0s
tlsCertFile: {agent}/serving-kubelet.crt
tlsPrivateKeyFile: {agent}/serving-kubelet.key
volumeStatsAggPeriod: 1m0s
"""


def _k3s_agent_files(tree: NodeTree) -> None:
    """What a k3s agent (and the agent inside a server) keeps under agent/."""
    agent = f"{K3S}/agent"
    tree.write(f"{agent}/kubelet.kubeconfig", "apiVersion: v1\nkind: Config\n", mode=0o600)
    tree.write(f"{agent}/kubeproxy.kubeconfig", "apiVersion: v1\nkind: Config\n", mode=0o600)
    tree.write(f"{agent}/client-ca.crt", "-----BEGIN CERTIFICATE-----\n", mode=0o644)
    tree.write(f"{agent}/serving-kubelet.crt", "-----BEGIN CERTIFICATE-----\n", mode=0o644)
    tree.write(f"{agent}/serving-kubelet.key", "-----BEGIN EC PRIVATE KEY-----\n", mode=0o600)
    tree.write(f"{agent}/etc/kubelet.conf.d/00-k3s-defaults.conf", k3s_kubelet_defaults(),
               mode=0o600)  # fmt: skip
    tree.chmod(f"{agent}/etc/kubelet.conf.d", 0o700)


def k3s_node(directory: Path) -> NodeTree:
    """A k3s server with its SQLite datastore, as ``curl -sfL https://get.k3s.io | sh -``
    leaves it: one k3s process runs the control plane, the kubelet and kube-proxy; its
    files are under /var/lib/rancher/k3s and /etc/rancher/k3s."""
    tree = NodeTree(directory / "root")
    tree.write("etc/hostname", "k3s-1\n")
    tree.write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
    tree.write("etc/group", "root:x:0:\n")
    tree.write("etc/rancher/k3s/k3s.yaml", KUBEADM.joinpath(
        "node/etc/kubernetes/admin.conf").read_text(), mode=0o600)  # fmt: skip
    for name in ("admin", "controller", "scheduler", "api-server", "supervisor"):
        tree.write(f"{K3S}/server/cred/{name}.kubeconfig", "apiVersion: v1\nkind: Config\n",
                   mode=0o600)  # fmt: skip
    for name in ("client-ca", "server-ca", "request-header-ca", "client-admin"):
        tree.write(f"{K3S}/server/tls/{name}.crt", "-----BEGIN CERTIFICATE-----\n", mode=0o644)
        tree.write(f"{K3S}/server/tls/{name}.key", "-----BEGIN EC PRIVATE KEY-----\n", mode=0o600)
    tree.write(f"{K3S}/server/db/state.db", "", mode=0o600)
    _k3s_agent_files(tree)
    k3s_run(tree, "server")
    return tree


def k3s_run(tree: NodeTree, *argv: str, environ: dict[str, str] | None = None) -> None:
    """k3s started with ``argv`` (``server ...`` or ``agent ...``): its systemd unit, as
    the install script writes it, and the running process."""
    unit = "k3s.service" if argv[0] == "server" else "k3s-agent.service"
    path = tree.path(f"etc/systemd/system/{unit}")
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    words = " \\\n    ".join(["/usr/local/bin/k3s", *(f"'{w}'" for w in argv)])
    tree.write(f"etc/systemd/system/{unit}", "[Unit]\nDescription=Lightweight Kubernetes\n\n"
               f"[Service]\nType=notify\nExecStart={words}\n", mode=mode)  # fmt: skip
    tree.process(K3S_PID, ["/usr/local/bin/k3s", *argv], environ)


def k3s_config(tree: NodeTree, text: str, name: str = "config.yaml") -> None:
    """/etc/rancher/k3s/config.yaml (or ``config.yaml.d/<name>``); k3s reads it at start."""
    rel = "etc/rancher/k3s/config.yaml" if name == "config.yaml" else (
        f"etc/rancher/k3s/config.yaml.d/{name}")  # fmt: skip
    tree.write(rel, text, mode=0o600)


K3S_HARDENING = f"""# the K3s hardening guide's settings, and what else the benchmark asks
protect-kernel-defaults: true
secrets-encryption: true
kube-apiserver-arg:
  - enable-admission-plugins=NodeRestriction,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs
  - "admission-control-config-file=/var/lib/rancher/k3s/server/psa.yaml"
  - "audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log"
  - "audit-policy-file=/var/lib/rancher/k3s/server/audit.yaml"
  - "audit-log-maxage=30"
  - "audit-log-maxbackup=10"
  - "audit-log-maxsize=100"
  - "service-account-extend-token-expiration=false"
  - "tls-cipher-suites={API_CIPHERS}"
kube-controller-manager-arg:
  - "terminated-pod-gc-threshold=10"
kubelet-arg:
  - "streaming-connection-idle-timeout=5m"
  - tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
  - "config=/etc/rancher/k3s/kubelet.yaml"
"""
K3S_KUBELET_HARDENING = """apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
podPidsLimit: 4096
seccompDefault: true
rotateCertificates: true
"""
K3S_ENCRYPTION = ('{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1",'
                  '"resources":[{"resources":["secrets"],"providers":[{"aescbc":{"keys":[{'
                  '"name":"aescbckey","secret":"c2Vhd2FsbC10ZXN0LWtleS0zMi1ieXRlcy1sb25nISE="}]}},'
                  '{"identity":{}}]}]}')  # fmt: skip


def k3s_etcd(tree: NodeTree) -> NodeTree:
    """The k3s server's embedded etcd (after ``--cluster-init``): its data directory, 700 as
    k3s makes it, and the etcd CAs and certificates under server/tls/etcd."""
    tree.write(f"{K3S}/server/db/etcd/config", "name: k3s-1\n", mode=0o600)
    tree.write(f"{K3S}/server/db/etcd/member/wal/0.wal", "", mode=0o600)
    tree.chmod(f"{K3S}/server/db/etcd", 0o700)
    tree.path(f"{K3S}/server/db/state.db").unlink()
    for name in ("server-ca", "peer-ca", "server-client", "peer-server-client", "client"):
        tree.write(f"{K3S}/server/tls/etcd/{name}.crt", "-----BEGIN CERTIFICATE-----\n",
                   mode=0o644)  # fmt: skip
        tree.write(f"{K3S}/server/tls/etcd/{name}.key", "-----BEGIN EC PRIVATE KEY-----\n",
                   mode=0o600)  # fmt: skip
    return tree


def k3s_hardened(tree: NodeTree) -> NodeTree:
    """k3s after its hardening guide, with embedded etcd (a config.yaml.d drop-in asks for
    ``cluster-init``) and the kubelet settings the guide leaves out, in a kubelet config
    file k3s copies into its drop-in directory."""
    k3s_config(tree, K3S_HARDENING)
    k3s_config(tree, "cluster-init: true\n", "10-etcd.yaml")
    k3s_etcd(tree)
    tree.write("etc/rancher/k3s/kubelet.yaml", K3S_KUBELET_HARDENING, mode=0o600)
    dropins = f"{K3S}/agent/etc/kubelet.conf.d"
    tree.write(f"{dropins}/10-cli-config.conf", K3S_KUBELET_HARDENING, mode=0o600)
    tree.write(f"{dropins}/00-k3s-defaults.conf",
               k3s_kubelet_defaults(protect_kernel_defaults=True), mode=0o600)  # fmt: skip
    tree.write(f"{K3S}/server/cred/encryption-config.json", K3S_ENCRYPTION, mode=0o600)
    tree.write(f"{K3S}/server/audit.yaml", AUDIT_POLICY, mode=0o600)
    tree.write(f"{K3S}/server/psa.yaml", EVENT_LIMITS, mode=0o600)
    tree.chmod(K3S_UNIT, 0o600)
    return tree


K3S_CARELESS = """write-kubeconfig-mode: "0644"
kube-apiserver-arg: ["anonymous-auth=true", "profiling=true"]
kubelet-arg: ["read-only-port=10255"]
kube-controller-manager-arg: ["bind-address=0.0.0.0", "profiling=true"]
kube-proxy-arg: ["metrics-bind-address=0.0.0.0:10249"]
"""
K3S_CARELESS_DROP_IN = """kubelet-arg+: ["anonymous-auth=true", "authorization-mode=AlwaysAllow"]
kube-scheduler-arg: ["bind-address=0.0.0.0"]
"""


def k3s_careless(tree: NodeTree) -> NodeTree:
    """k3s after careless hands: open flags in config.yaml, a drop-in appending kubelet
    flags, more on the command line, the admin kubeconfig world-readable."""
    k3s_config(tree, K3S_CARELESS)
    k3s_config(tree, K3S_CARELESS_DROP_IN, "50-debug.yaml")
    k3s_run(tree, "server", "--kube-apiserver-arg=enable-admission-plugins+=AlwaysAdmit",
            "--kube-scheduler-arg", "profiling=true")  # fmt: skip
    tree.chmod("etc/rancher/k3s/k3s.yaml", 0o644)
    return tree


def k3s_agent_node(directory: Path) -> NodeTree:
    """A k3s agent joined to a server (``K3S_URL``): a kubelet and kube-proxy only."""
    tree = NodeTree(directory / "root")
    tree.write("etc/hostname", "k3s-agent-1\n")
    tree.write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
    tree.write("etc/group", "root:x:0:\n")
    tree.write("etc/rancher/node/password", "0123456789abcdef\n", mode=0o600)
    _k3s_agent_files(tree)
    k3s_run(tree, "agent", environ={"K3S_URL": "https://192.168.1.10:6443",
                                    "K3S_TOKEN": "K10-test-token"})  # fmt: skip
    return tree
