"""CIS Kubernetes Benchmark section 4: the worker node's files (4.1), the kubelet (4.2) and
kube-proxy (4.3). Every node runs a kubelet, control-plane nodes included."""

from __future__ import annotations

from seawall.hardening import systemd
from seawall.hardening.benchmark import Result, verdict
from seawall.hardening.errors import NotApplicable, Unassessable
from seawall.hardening.kubernetes import expect
from seawall.hardening.kubernetes.components import KUBELET, PROXY
from seawall.hardening.kubernetes.facts import NodeFacts
from seawall.hardening.kubernetes.registry import (
    file_check,
    flag_check,
    kubelet_check,
    node_check,
)
from seawall.model import Status

ROOT = ("root", "root")
STRONG_KUBELET_CIPHERS = (
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
)  # fmt: skip

# -- 4.1 worker node configuration files ------------------------------------------------------


def _named_file(facts: NodeFacts, component: str, flag: str, default: str) -> str:
    """The file ``component`` names with ``--flag``, else the layout's ``default`` (also
    when the component itself cannot be read: the file is still worth assessing)."""
    part = facts.components.get(component)
    return (part.value(flag) if part else None) or default


def _kubelet_unit_files(facts: NodeFacts) -> list[str]:
    unit = systemd.first_unit(facts.files, facts.paths.kubelet_units)
    found = [systemd.unit_file(facts.files, unit), *systemd.drop_ins(facts.files, unit)]
    return [path for path in found if path] or [unit]


def _proxy_kubeconfigs(facts: NodeFacts) -> list[str]:
    named = _named_file(facts, PROXY, "kubeconfig", "")
    found = [p for p in ([named] if named else []) + list(facts.paths.proxy_kubeconfigs)
             if facts.files.exists(p)]  # fmt: skip
    if not found:
        facts.component(PROXY)  # not applicable when kube-proxy does not run here
    if not found:
        raise NotApplicable(
            "kube-proxy's kubeconfig is not on the node's filesystem (kube-proxy runs as a "
            "pod: its kubeconfig comes from a ConfigMap or a projected token)"
        )
    return found


def _kubelet_kubeconfig(facts: NodeFacts) -> list[str]:
    return [_named_file(facts, KUBELET, "kubeconfig", facts.paths.kubelet_kubeconfig)]


def _kubelet_client_ca(facts: NodeFacts) -> list[str]:
    if facts.kubelet_settings is None:
        return [_named_file(facts, KUBELET, "client-ca-file", facts.paths.kubelet_ca)]
    ca = facts.kubelet_settings.get("client-ca-file", "authentication.x509.clientCAFile")
    return [str(ca.value) if ca.value else facts.paths.kubelet_ca]


def _kubelet_config_files(facts: NodeFacts) -> list[str]:
    settings = facts.kubelet()
    if not settings.layers:
        raise NotApplicable("the kubelet runs without a config file (flags only)")
    return [path for path, _ in settings.layers]


file_check("4.1.1", _kubelet_unit_files, mode=0o600)
file_check("4.1.2", _kubelet_unit_files, owner=ROOT)
file_check("4.1.3", _proxy_kubeconfigs, mode=0o600)
file_check("4.1.4", _proxy_kubeconfigs, owner=ROOT)
file_check("4.1.5", _kubelet_kubeconfig, mode=0o600)
file_check("4.1.6", _kubelet_kubeconfig, owner=ROOT)
file_check("4.1.7", _kubelet_client_ca, mode=0o644)
file_check("4.1.8", _kubelet_client_ca, owner=ROOT)
file_check("4.1.9", _kubelet_config_files, mode=0o600)
file_check("4.1.10", _kubelet_config_files, owner=ROOT)

# -- 4.2 kubelet: (flag, config key), what is wanted, the flag default, the config default ----

kubelet_check("4.2.1", "anonymous-auth", "authentication.anonymous.enabled", expect.equals("false"),
              flag_default=True, config_default=False)  # fmt: skip
kubelet_check("4.2.2", "authorization-mode", "authorization.mode", expect.excludes("AlwaysAllow"),
              flag_default="AlwaysAllow", config_default="Webhook")  # fmt: skip
kubelet_check("4.2.3", "client-ca-file", "authentication.x509.clientCAFile", expect.IS_SET)
kubelet_check("4.2.4", "read-only-port", "readOnlyPort", expect.equals("0"),
              flag_default=10255, config_default=0)  # fmt: skip


@node_check("4.2.5")
def streaming_idle_timeout(facts: NodeFacts) -> Result:
    """A zero timeout keeps idle exec and port-forward streams open forever. In the config
    file a zero duration is the field's empty value, which the kubelet defaults to 4h (the
    ``0s`` kubeadm writes); only the flag can set 0."""
    settings = facts.kubelet()
    flag = settings.component.value("streaming-connection-idle-timeout")
    if flag is not None:
        shown = settings.component.shown("streaming-connection-idle-timeout")
        return verdict(not expect.NONZERO_DURATION.holds(flag), f"{shown} (want not 0)", shown)
    setting = settings.get(None, "streamingConnectionIdleTimeout", config_default="4h0m0s",
                           flag_default="4h0m0s")  # fmt: skip
    if setting.explicit and not expect.NONZERO_DURATION.holds(setting.value):
        return Result(Status.PASS, f"{setting.source}: the kubelet reads 0 as its default, 4h")
    return Result(Status.PASS, setting.source)


kubelet_check("4.2.6", "make-iptables-util-chains", "makeIPTablesUtilChains",
              expect.equals("true"), flag_default=True, config_default=True)  # fmt: skip
flag_check("4.2.7", KUBELET, "hostname-override", expect.NOT_SET)
kubelet_check("4.2.8", "event-qps", "eventRecordQPS", expect.at_least(0),
              flag_default=50, config_default=50)  # fmt: skip


@node_check("4.2.9")
def serving_certificate(facts: NodeFacts) -> Result:
    """A serving certificate the cluster's CA signed: given as files, or requested from the
    API server (``serverTLSBootstrap``). Otherwise the kubelet serves a self-signed one
    that nobody can verify."""
    settings = facts.kubelet()
    cert = settings.get("tls-cert-file", "tlsCertFile")
    key = settings.get("tls-private-key-file", "tlsPrivateKeyFile")
    bootstrap = settings.get(None, "serverTLSBootstrap", config_default=False)
    if cert.value and key.value:
        return Result(Status.PASS, f"{cert.source}; {key.source}")
    return verdict(
        bootstrap.value is not True,
        f"{cert.source}; {key.source}; {bootstrap.source}: the kubelet serves a self-signed "
        "certificate (want tlsCertFile and tlsPrivateKeyFile, or serverTLSBootstrap: true)",
        f"{bootstrap.source}: the serving certificate is requested from the cluster's CA",
    )


kubelet_check("4.2.10", "rotate-certificates", "rotateCertificates", expect.equals("true"),
              flag_default=False, config_default=False)  # fmt: skip


@node_check("4.2.11")
def server_certificate_rotation(facts: NodeFacts) -> Result:
    gate = facts.kubelet().feature_gate("RotateKubeletServerCertificate")
    if not gate.explicit:
        return Result(Status.PASS, f"{gate.source.split(';')[0]}; the gate is on by default")
    return verdict(gate.value is False, f"{gate.source} (want not false)", gate.source)


kubelet_check("4.2.12", "tls-cipher-suites", "tlsCipherSuites",
              expect.subset_of(STRONG_KUBELET_CIPHERS))  # fmt: skip
kubelet_check("4.2.13", "pod-max-pids", "podPidsLimit", expect.positive(),
              flag_default=-1, config_default=-1)  # fmt: skip
kubelet_check("4.2.14", "seccomp-default", "seccompDefault", expect.equals("true"),
              flag_default=False, config_default=False)  # fmt: skip

# -- 4.3 kube-proxy -----------------------------------------------------------------------------


@node_check("4.3.1")
def proxy_metrics_address(facts: NodeFacts) -> Result:
    """kube-proxy's metrics (``--metrics-bind-address`` or the config's
    ``metricsBindAddress``, default 127.0.0.1:10249) stay on the loopback interface."""
    proxy = facts.component(PROXY)
    address = proxy.value("metrics-bind-address")
    shown = proxy.shown("metrics-bind-address")
    if address is None and facts.proxy_config is not None:
        path, config = facts.proxy_config
        address = str(config.get("metricsBindAddress") or "") or None
        shown = f"metricsBindAddress: {address or '(empty)'} in {path} ({proxy.source})"
    elif address is None and "kube-proxy-config" in facts.errors:
        raise Unassessable(facts.errors["kube-proxy-config"])
    if address is None:
        shown += "; the default is 127.0.0.1:10249"
    effective = address or "127.0.0.1:10249"
    return verdict(not expect.LOOPBACK.holds(effective), f"{shown} (want 127.0.0.1)", shown)
