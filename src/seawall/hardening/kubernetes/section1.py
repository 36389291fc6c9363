"""CIS Kubernetes Benchmark section 1: the control plane's files (1.1), the API server
(1.2), the controller manager (1.3) and the scheduler (1.4)."""

from __future__ import annotations

from seawall.hardening.benchmark import Result, verdict
from seawall.hardening.errors import NotApplicable, Unassessable
from seawall.hardening.kubernetes import expect
from seawall.hardening.kubernetes.components import (
    APISERVER,
    CONTROLLER_MANAGER,
    ETCD,
    ETCD_VARIABLES,
    SCHEDULER,
    Component,
)
from seawall.hardening.kubernetes.facts import NodeFacts
from seawall.hardening.kubernetes.registry import (
    Paths,
    every_flag_check,
    file_check,
    flag_check,
    node_check,
)
from seawall.model import Status

ROOT = ("root", "root")
STRONG_CIPHERS = (
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
)  # fmt: skip
EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 (a default value: nothing binds here)
STRONG_ENCRYPTION = frozenset({"aescbc", "aesgcm", "kms", "secretbox"})

# -- 1.1 control plane node configuration files ---------------------------------------------


def _manifest(component: str) -> Paths:
    def find(facts: NodeFacts) -> list[str]:
        facts.require_control_plane()
        if not facts.paths.manifests:
            raise NotApplicable(
                f"{facts.layout.value} runs the control plane without static pod manifests"
            )
        return [facts.paths.manifest(component)]

    return find


def _admin_kubeconfigs(facts: NodeFacts) -> list[str]:
    facts.require_control_plane()
    return list(facts.paths.admin_kubeconfigs)


def _component_kubeconfig(component: str, default: str) -> Paths:
    def find(facts: NodeFacts) -> list[str]:
        facts.require_control_plane()
        try:
            named = facts.component(component).value("kubeconfig")
        except (NotApplicable, Unassessable):
            named = None
        return [named or getattr(facts.paths, default)]

    return find


def _etcd_data_dir(facts: NodeFacts) -> list[str]:
    """etcd's --data-dir (or ETCD_DATA_DIR), else the layout's."""
    named, _ = facts.component(ETCD).setting("data-dir", ETCD_VARIABLES)
    return [named or facts.paths.etcd_data]


def _cni_files(facts: NodeFacts) -> list[str]:
    """Every file (not directory) of the CNI configuration and the CNI plugins' state."""
    found: list[str] = []
    for directory in (facts.paths.cni_config, facts.paths.cni_state):
        for entry in facts.files.walk(directory)[1:]:
            info = facts.files.stat(entry)
            if info is not None and info.kind != "dir":
                found.append(entry)
    if not found:
        raise NotApplicable(
            f"no CNI configuration or state files in {facts.paths.cni_config} or "
            f"{facts.paths.cni_state}"
        )
    return found


def _pki(suffix: str = "") -> Paths:
    def find(facts: NodeFacts) -> list[str]:
        facts.require_control_plane()
        entries = facts.files.walk(facts.paths.pki)
        chosen = [e for e in entries if e.endswith(suffix)] if suffix else entries
        return chosen or [f"{facts.paths.pki}/*{suffix}"]

    return find


for _ids, _component in ((("1.1.1", "1.1.2"), APISERVER), (("1.1.3", "1.1.4"), CONTROLLER_MANAGER),
                          (("1.1.5", "1.1.6"), SCHEDULER), (("1.1.7", "1.1.8"), ETCD)):  # fmt: skip
    file_check(_ids[0], _manifest(_component), mode=0o600)
    file_check(_ids[1], _manifest(_component), owner=ROOT)
file_check("1.1.9", _cni_files, mode=0o600)
file_check("1.1.10", _cni_files, owner=ROOT)
file_check("1.1.11", _etcd_data_dir, mode=0o700)
file_check("1.1.12", _etcd_data_dir, owner=("etcd", "etcd"))
file_check("1.1.13", _admin_kubeconfigs, mode=0o600)
file_check("1.1.14", _admin_kubeconfigs, owner=ROOT)
file_check("1.1.15", _component_kubeconfig(SCHEDULER, "scheduler_kubeconfig"), mode=0o600)
file_check("1.1.16", _component_kubeconfig(SCHEDULER, "scheduler_kubeconfig"), owner=ROOT)
_CM_KUBECONFIG = _component_kubeconfig(CONTROLLER_MANAGER, "controller_manager_kubeconfig")
file_check("1.1.17", _CM_KUBECONFIG, mode=0o600)
file_check("1.1.18", _CM_KUBECONFIG, owner=ROOT)
file_check("1.1.19", _pki(), owner=ROOT)
file_check("1.1.20", _pki(".crt"), mode=0o644)
file_check("1.1.21", _pki(".key"), mode=0o600)

# -- 1.2 API server ----------------------------------------------------------------------------

flag_check("1.2.1", APISERVER, "anonymous-auth", expect.equals("false"), default="true")
flag_check("1.2.2", APISERVER, "token-auth-file", expect.NOT_SET)
flag_check("1.2.3", APISERVER, "enable-admission-plugins",
           expect.includes("DenyServiceExternalIPs"))  # fmt: skip
every_flag_check("1.2.4", APISERVER, ("kubelet-client-certificate", "kubelet-client-key"))
flag_check("1.2.5", APISERVER, "kubelet-certificate-authority", expect.IS_SET)


def authorizers(facts: NodeFacts, apiserver: Component) -> tuple[str, str] | None:
    """The authorizer types of an --authorization-config file (AuthorizationConfiguration,
    which replaces --authorization-mode), comma-joined in order, and the evidence."""
    path = apiserver.value("authorization-config")
    if not path:
        return None
    listed = facts.document(path, "an AuthorizationConfiguration").get("authorizers")
    if not isinstance(listed, list):
        raise Unassessable(f"{path} is not an AuthorizationConfiguration (no authorizers)")
    types = [str(a.get("type")) for a in listed if isinstance(a, dict) and a.get("type")]
    return ",".join(types), f"authorizers {', '.join(types) or '(none)'} in {path}"


for _id, _wish in (("1.2.6", expect.excludes("AlwaysAllow")), ("1.2.7", expect.includes("Node")),
                   ("1.2.8", expect.includes("RBAC"))):  # fmt: skip
    flag_check(_id, APISERVER, "authorization-mode", _wish, default="AlwaysAllow",
               otherwise=authorizers)  # fmt: skip
flag_check("1.2.9", APISERVER, "enable-admission-plugins", expect.includes("EventRateLimit"))
flag_check("1.2.10", APISERVER, "enable-admission-plugins", expect.excludes("AlwaysAdmit"))
flag_check("1.2.11", APISERVER, "enable-admission-plugins",
           expect.includes("AlwaysPullImages"))  # fmt: skip
flag_check("1.2.12", APISERVER, "disable-admission-plugins", expect.excludes("ServiceAccount"))
flag_check("1.2.13", APISERVER, "disable-admission-plugins", expect.excludes("NamespaceLifecycle"))
flag_check("1.2.14", APISERVER, "enable-admission-plugins", expect.includes("NodeRestriction"))
flag_check("1.2.15", APISERVER, "profiling", expect.equals("false"), default="true")
flag_check("1.2.16", APISERVER, "audit-log-path", expect.IS_SET)
flag_check("1.2.17", APISERVER, "audit-log-maxage", expect.at_least(30), default="0")
flag_check("1.2.18", APISERVER, "audit-log-maxbackup", expect.at_least(10), default="0")
flag_check("1.2.19", APISERVER, "audit-log-maxsize", expect.at_least(100), default="0")


@node_check("1.2.20")
def request_timeout(facts: NodeFacts) -> Result:
    """Any value may be right: the benchmark asks people to judge it; Seawall shows it."""
    return Result(
        Status.MANUAL, facts.component(APISERVER).shown("request-timeout") + "; the default is 1m0s"
    )


flag_check("1.2.21", APISERVER, "service-account-lookup", expect.equals("true"), default="true")
flag_check("1.2.22", APISERVER, "service-account-key-file", expect.IS_SET)
every_flag_check("1.2.23", APISERVER, ("etcd-certfile", "etcd-keyfile"))
every_flag_check("1.2.24", APISERVER, ("tls-cert-file", "tls-private-key-file"))
flag_check("1.2.25", APISERVER, "client-ca-file", expect.IS_SET)
flag_check("1.2.26", APISERVER, "etcd-cafile", expect.IS_SET)
flag_check("1.2.27", APISERVER, "encryption-provider-config", expect.IS_SET)


@node_check("1.2.28")
def encryption_providers(facts: NodeFacts) -> Result:
    """The first provider of every resource group encrypts (``identity`` first stores the
    resources in clear text: a later provider only decrypts old data)."""
    apiserver = facts.component(APISERVER)
    path = apiserver.value("encryption-provider-config")
    if not path:
        return Result(Status.FAIL, apiserver.shown("encryption-provider-config")
                      + ": secrets are stored in etcd unencrypted")  # fmt: skip
    groups = facts.document(path, "an EncryptionConfiguration").get("resources")
    if not isinstance(groups, list) or not groups:
        raise Unassessable(f"{path} is not an EncryptionConfiguration (no resources)")
    firsts: list[str] = []
    for group in groups:
        providers = group.get("providers") if isinstance(group, dict) else None
        first = providers[0] if isinstance(providers, list) and providers else None
        name = next(iter(first), "none") if isinstance(first, dict) else "none"
        resources = (
            ",".join(map(str, group.get("resources") or [])) if isinstance(group, dict) else ""
        )
        firsts.append(f"{resources or '?'}: {name}")
    weak = [f for f in firsts if f.rsplit(": ", 1)[1] not in STRONG_ENCRYPTION]
    shown = f"first providers in {path}: {'; '.join(firsts)}"
    return verdict(bool(weak), f"{shown} (want aescbc, aesgcm, kms or secretbox first)", shown)


flag_check("1.2.29", APISERVER, "tls-cipher-suites", expect.subset_of(STRONG_CIPHERS))  # fmt: skip
flag_check("1.2.30", APISERVER, "service-account-extend-token-expiration", expect.equals("false"),
           default="true")  # fmt: skip

# -- 1.3 controller manager, 1.4 scheduler -----------------------------------------------------

flag_check("1.3.1", CONTROLLER_MANAGER, "terminated-pod-gc-threshold", expect.IS_SET)
flag_check("1.3.2", CONTROLLER_MANAGER, "profiling", expect.equals("false"), default="true")
flag_check("1.3.3", CONTROLLER_MANAGER, "use-service-account-credentials", expect.equals("true"),
           default="false")  # fmt: skip
flag_check("1.3.4", CONTROLLER_MANAGER, "service-account-private-key-file", expect.IS_SET)
flag_check("1.3.5", CONTROLLER_MANAGER, "root-ca-file", expect.IS_SET)
flag_check("1.3.6", CONTROLLER_MANAGER, "feature-gates",
           expect.gate_not_false("RotateKubeletServerCertificate"), default="")  # fmt: skip
flag_check("1.3.7", CONTROLLER_MANAGER, "bind-address", expect.LOOPBACK, default=EVERY_INTERFACE)
flag_check("1.4.1", SCHEDULER, "profiling", expect.equals("false"), default="true")
flag_check("1.4.2", SCHEDULER, "bind-address", expect.LOOPBACK, default=EVERY_INTERFACE)
