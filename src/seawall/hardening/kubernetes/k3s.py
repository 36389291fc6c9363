"""k3s's embedded components: the flags the ``k3s server`` (or ``k3s agent``) process gives
the API server, controller manager, scheduler, etcd, kubelet and kube-proxy it runs inside
itself, rebuilt as k3s builds them: its defaults, then the k3s options that change them,
then the ``--<component>-arg`` settings, which override a default of the same name.

Where k3s's options come from (``pkg/configfilearg/parser.go``): /etc/rancher/k3s/config.yaml
(or ``$K3S_CONFIG_FILE``, ``--config``) and its ``config.yaml.d/*.yaml`` drop-ins in name
order, their keys being the long option names (a later file replaces a key, ``key+:``
appends to it), come first; the command line comes after them, so its single-valued options
win and its ``*-arg`` lists follow the files'. An option's ``K3S_*`` variable counts only
when neither sets it.

The defaults are read in k3s's source (github.com/k3s-io/k3s, its main branch in 2026;
commits named where they were known):

- kube-apiserver, kube-controller-manager, kube-scheduler: ``pkg/daemons/control/server.go``
  (``apiServer``, ``controllerManager``, ``scheduler``); certificate
  paths from ``pkg/daemons/control/deps/deps.go`` (73047b2472235ec18f33eb52a5bf12b0c6cf4936);
  how extra args override (``key=``, ``key+=`` appends, ``key-=`` prepends):
  ``pkg/util/args.go`` ``GetArgs``.
- etcd: ``pkg/etcd/etcd.go`` ``cluster`` writes an ``ETCDConfig``
  (``pkg/daemons/executor/executor.go``, 0097157bb67cd6fedcd7e73e41a7b05665220838) to etcd's
  config file; ``--etcd-arg`` values become top-level keys of that file, where etcd does not
  read its TLS settings (they live under ``client-transport-security`` and
  ``peer-transport-security``), so an ``--etcd-arg`` cannot change those.
- kubelet, kube-proxy: ``pkg/daemons/agent/agent_linux.go``
  (00014d2846a2c2cf4fb506d90f27cc04bb9497f3); the kubelet's settings are in the drop-in
  ``00-k3s-defaults.conf`` that ``pkg/daemons/agent/agent.go`` writes
  to ``agent/etc/kubelet.conf.d`` (``pkg/agent/config/config.go``) at
  each start; a ``--kubelet-arg=config=`` or ``config-dir=`` file is copied into that
  directory, not passed. Seawall reads the directory from disk (``kubelet``).
- option names: ``pkg/cli/cmds/server.go`` and ``agent.go``.

Only what the benchmark reads, and what names the component's files, is rebuilt: flags that
depend on the host at run time (node IPs, cgroups, the runtime's socket) are left out.
Paths are under the data directory (``--data-dir``, default /var/lib/rancher/k3s). An
agent learns ``--disable-kube-proxy`` from the servers: on an agent, kube-proxy is taken
to run, k3s's default.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from seawall.errors import InputError
from seawall.hardening import systemd
from seawall.hardening.commandline import parse_flags
from seawall.hardening.errors import Unassessable
from seawall.hardening.hostfiles import HostFiles
from seawall.hardening.kubernetes.components import (
    APISERVER,
    CONTROLLER_MANAGER,
    ETCD,
    KUBELET,
    PROXY,
    SCHEDULER,
    Component,
)
from seawall.hardening.processes import Process, environment
from seawall.safety.yaml import read_yaml

DATA_DIR = "/var/lib/rancher/k3s"
CONFIG = "/etc/rancher/k3s/config.yaml"
UNITS = ("k3s.service", "k3s-agent.service")  # as k3s's install script names them
KUBELET_DEFAULTS = "00-k3s-defaults.conf"
LOOPBACK = "127.0.0.1"
_EXTRA_ARGS = {
    APISERVER: ("kube-apiserver-arg",),
    CONTROLLER_MANAGER: ("kube-controller-manager-arg", "kube-controller-arg"),  # old name
    SCHEDULER: ("kube-scheduler-arg",),
    ETCD: ("etcd-arg",),
    KUBELET: ("kubelet-arg",),
    PROXY: ("kube-proxy-arg",),
}
_BOOLEANS = frozenset(
    {
        "cluster-init", "cluster-reset", "secrets-encryption", "protect-kernel-defaults",
        "disable-kube-proxy", "disable-apiserver", "disable-controller-manager",
        "disable-scheduler", "disable-etcd", "disable-agent", "disable-cloud-controller",
        "disable-network-policy", "disable-helm-controller", "etcd-expose-metrics",
        "with-node-id", "selinux", "rootless", "debug", "docker", "kine-tls",
        "embedded-registry", "supervisor-metrics", "prefer-bundled-bin", "enable-pprof",
    }
)  # fmt: skip
_SHORT = {"c": "config", "d": "data-dir", "t": "token", "s": "server", "o": "write-kubeconfig"}
_VARIABLES = {
    "data-dir": "K3S_DATA_DIR", "cluster-init": "K3S_CLUSTER_INIT",
    "node-name": "K3S_NODE_NAME", "datastore-endpoint": "K3S_DATASTORE_ENDPOINT",
    "datastore-cafile": "K3S_DATASTORE_CAFILE", "datastore-certfile": "K3S_DATASTORE_CERTFILE",
    "datastore-keyfile": "K3S_DATASTORE_KEYFILE",
}  # fmt: skip
# the server options that stop k3s running a component
_DISABLING = {
    APISERVER: ("disable-apiserver",), CONTROLLER_MANAGER: ("disable-controller-manager",),
    SCHEDULER: ("disable-scheduler",), KUBELET: ("disable-agent",),
    PROXY: ("disable-agent", "disable-kube-proxy"),
}  # fmt: skip
# etcd reads these only inside client-/peer-transport-security, out of --etcd-arg's reach
_ETCD_TLS = frozenset(
    {f"{peer}{key}" for peer in ("", "peer-") for key in
     ("cert-file", "key-file", "client-cert-auth", "trusted-ca-file", "auto-tls")}
)  # fmt: skip


@dataclass
class Embedded:
    """What k3s runs on this node: each component found, or why it is not here (absent)
    or cannot be known (errors, also ``kubelet-config``)."""

    components: dict[str, Component] = field(default_factory=dict)
    absent: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class _Options:
    """k3s's options by name, each value with where it was given; ``used`` collects the
    places of the options read since the last ``reset``: a component's sources."""

    values: dict[str, list[tuple[str, str]]]
    used: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.used = []

    def each(self, *names: str) -> list[str]:
        found = [entry for name in names for entry in self.values.get(name, [])]
        for _, where in found:
            if where not in self.used:
                self.used.append(where)
        return [value for value, _ in found]

    def text(self, name: str) -> str | None:
        found = self.each(name)
        return found[-1] if found else None

    def true(self, name: str) -> bool:
        return (self.text(name) or "").strip() in ("1", "t", "T", "true", "TRUE", "True")


def embedded(files: HostFiles, processes: Iterable[Process]) -> Embedded | None:
    """The components of the ``k3s server`` or ``k3s agent`` process (else of its systemd
    unit, on a node's disk without its proc tree); None when neither is found."""
    for process in processes:
        if process.program == "k3s" and process.argv[1:2] in (("server",), ("agent",)):
            origin = f"k3s {process.argv[1]} process {process.pid}"
            return _embedded(files, list(process.argv), origin, environment(files, process.pid))
    for unit in UNITS:
        try:
            command = systemd.service_command(files, unit)
        except Unassessable:
            continue
        argv = command.argv
        if argv and argv[0].rsplit("/", 1)[-1] == "k3s" and argv[1:2] in (["server"], ["agent"]):
            return _embedded(files, argv, " + ".join(command.sources), {})
    return None


def _embedded(files: HostFiles, argv: list[str], origin: str, env: dict[str, str]) -> Embedded:
    server = argv[1] == "server"
    names = [APISERVER, CONTROLLER_MANAGER, SCHEDULER, ETCD, KUBELET, PROXY] if server else [
        KUBELET, PROXY]  # fmt: skip
    found = Embedded()
    command_line = parse_flags(argv[2:], booleans=_BOOLEANS, short=_SHORT)
    path = env.get("K3S_CONFIG_FILE") or (command_line.get("config") or [CONFIG])[-1]
    try:
        configured = _config_options(files, path)
    except Unassessable as exc:
        known = _Node(files, _Options(_merged({}, command_line, env)), server, configured=False)
        if server and (why := _no_etcd(known)):
            names.remove(ETCD)  # the command line alone tells
            found.absent[ETCD] = why
        for name in names:
            found.errors[name] = f"{exc.reason}: the flags k3s gives {name} are unknown"
        return found
    node = _Node(files, _Options(_merged(configured, command_line, env)), server)
    for name in names:
        node.options.reset()
        try:
            flags, why_absent = node.build(name)
        except Unassessable as exc:
            found.errors[name] = exc.reason
            continue
        if why_absent:
            found.absent[name] = why_absent
            continue
        places = ", ".join(["k3s defaults", *node.options.used])
        found.components[name] = Component(name=name, flags=flags, source=f"{origin} ({places})")
    kubelet = found.components.get(KUBELET)
    if kubelet is not None:
        _check_kubelet_defaults(files, kubelet, found)
    return found


def _no_etcd(node: _Node) -> str:
    try:
        return node.etcd_absent()
    except Unassessable:
        return ""


# -- k3s's options ---------------------------------------------------------------------------


def _config_options(files: HostFiles, path: str) -> dict[str, list[tuple[str, str]]]:
    """The options of k3s's config file and its drop-ins, as k3s flattens them."""
    if "://" in path:
        raise Unassessable(f"k3s reads its configuration from {path}, which Seawall does not "
                           "fetch")  # fmt: skip
    options: dict[str, list[tuple[str, str]]] = {}
    for name in _config_files(files, path):
        text = files.read_text(name) or ""
        try:
            documents = read_yaml(text, name, strings=True)
        except InputError as exc:
            raise Unassessable(exc.message) from None
        document = documents[0] if documents else None
        if document is None:
            continue
        if not isinstance(document, dict):
            raise Unassessable(f"{name} is not a mapping of k3s options")
        for key, value in document.items():
            option = _go_string(key)
            append = option.endswith("+")
            option = _SHORT.get(option.removesuffix("+"), option.removesuffix("+"))
            given = [(_go_string(item), name) for item in _listed(value)]
            options[option] = [*options.get(option, []), *given] if append else given
    return options


def _config_files(files: HostFiles, path: str) -> list[str]:
    found = [path] if files.exists(path) else []
    for name in files.list_dir(f"{path}.d"):
        entry = f"{path}.d/{name}"
        info = files.stat(entry)
        if name.lower().endswith((".yaml", ".yml")) and info is not None and info.kind != "dir":
            found.append(entry)
    return found


def _merged(
    configured: dict[str, list[tuple[str, str]]], command_line: dict[str, list[str]],
    env: dict[str, str],
) -> dict[str, list[tuple[str, str]]]:  # fmt: skip
    """Config values, then the command line's; a variable where neither gives the option."""
    merged = {name: list(values) for name, values in configured.items()}
    for name, values in command_line.items():
        merged[name] = [*merged.get(name, []), *((v, "command line") for v in values)]
    for name, variable in _VARIABLES.items():
        if name not in merged and env.get(variable):
            merged[name] = [(env[variable], f"${variable}")]
    return merged


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _go_string(value: Any) -> str:
    """A YAML value as k3s turns it into a flag's value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def with_extra_args(defaults: dict[str, str], extra: Iterable[str]) -> dict[str, list[str]]:
    """k3s's ``GetArgs``: an extra ``key=value`` replaces the default ``key``, ``key+=value``
    appends to it and ``key-=value`` prepends (the component gets every value, as list
    flags accumulate them: joined here by commas); a key alone is ``true``."""
    initial = dict(defaults)
    chosen: dict[str, list[str]] = {}
    joined: set[str] = set()
    for arg in extra:
        key, separator, value = arg.removeprefix("--").partition("=")
        value = value if separator else "true"
        name = key.rstrip("-+")
        default = [initial.pop(name)] if name in initial else []
        earlier = chosen.get(name, [])
        if key.endswith("+"):
            chosen[name] = [*default, *earlier, value]
        elif key.endswith("-"):
            chosen[name] = [value, *default, *earlier]
        else:
            chosen[name] = [*earlier, value]
        if key != name:
            joined.add(name)
    chosen.update({name: [value] for name, value in initial.items()})
    return {name: [",".join(v)] if name in joined else v for name, v in chosen.items()}


# -- each component: its flags, or why k3s does not run it here --------------------------


@dataclass
class _Node:
    files: HostFiles
    options: _Options
    server: bool  # ``k3s server``, else ``k3s agent``
    configured: bool = True  # False: the config files could not be read

    def build(self, name: str) -> tuple[dict[str, list[str]], str]:
        """The flags of ``name``, or ({}, why k3s does not run it here); Unassessable when
        a file that decides cannot be looked at."""
        why = self._absent(name)
        if why:
            return {}, why
        if name == ETCD:
            return {flag: [value] for flag, value in self._etcd().items()}, ""
        extra = self.options.each(*_EXTRA_ARGS[name])
        if name == APISERVER:
            defaults = self._apiserver(extra)
        elif name == KUBELET:
            extra = _without_config(extra)
            defaults = self._kubelet()
        else:
            builders = {CONTROLLER_MANAGER: self._controller_manager,
                        SCHEDULER: self._scheduler, PROXY: self._proxy}  # fmt: skip
            defaults = builders[name]()
        return with_extra_args(defaults, extra), ""

    @property
    def data(self) -> str:
        return (self.options.text("data-dir") or DATA_DIR).rstrip("/") or "/"

    def _absent(self, name: str) -> str:
        if name == ETCD:
            return self.etcd_absent()
        for option in _DISABLING[name] if self.server else ():
            if self.options.true(option):
                return f"k3s runs no {name} on this node (--{option})"
        return ""

    def etcd_absent(self) -> str:
        """Why k3s runs no etcd here ("" when it does): an external datastore, SQLite."""
        if self.options.text("datastore-endpoint"):
            return ("k3s keeps the cluster's state in an external datastore "
                    "(--datastore-endpoint): no etcd on this node")  # fmt: skip
        if self.options.true("disable-etcd"):
            return "k3s runs no etcd on this node (--disable-etcd)"
        etcd = f"{self.data}/server/db/etcd"
        if self.options.true("cluster-init") or self.files.exists(etcd):
            return ""
        if not self.configured:  # etcd has not run here, whatever the files would say
            return f"k3s runs no etcd on this node ({etcd} does not exist)"
        return ("k3s keeps the cluster's state in its SQLite datastore (kine): no etcd "
                f"({etcd} does not exist, no --cluster-init)")  # fmt: skip

    def _apiserver(self, extra: list[str]) -> dict[str, str]:
        server, tls = f"{self.data}/server", f"{self.data}/server/tls"
        args = {
            "allow-privileged": "true", "enable-bootstrap-token-auth": "true",
            "cert-dir": f"{tls}/temporary-certs", "storage-backend": "etcd3",
            "client-ca-file": f"{tls}/client-ca.crt",
            "enable-admission-plugins": "NodeRestriction", "profiling": "false",
            "kubelet-certificate-authority": f"{tls}/server-ca.crt",
            "kubelet-client-certificate": f"{tls}/client-kube-apiserver.crt",
            "kubelet-client-key": f"{tls}/client-kube-apiserver.key",
            "proxy-client-cert-file": f"{tls}/client-auth-proxy.crt",
            "proxy-client-key-file": f"{tls}/client-auth-proxy.key",
            "requestheader-client-ca-file": f"{tls}/request-header-ca.crt",
            "requestheader-allowed-names": "system:auth-proxy",
            "service-account-key-file": f"{tls}/service.key",
            "service-account-signing-key-file": f"{tls}/service.current.key",
            "tls-cert-file": f"{tls}/serving-kube-apiserver.crt",
            "tls-private-key-file": f"{tls}/serving-kube-apiserver.key",
        }  # fmt: skip
        given = {arg.removeprefix("--").partition("=")[0] for arg in extra}
        if "authorization-config" not in given:  # else k3s leaves the mode to that file
            args["authorization-mode"] = "Node,RBAC"
        if "authentication-config" not in given:
            args["anonymous-auth"] = "false"
        if self.options.true("secrets-encryption"):
            args["encryption-provider-config"] = f"{server}/cred/encryption-config.json"
            args["encryption-provider-config-automatic-reload"] = "true"
        endpoint = self.options.text("datastore-endpoint") or ""
        if not self.etcd_absent():
            args |= {"etcd-cafile": f"{tls}/etcd/server-ca.crt",
                     "etcd-certfile": f"{tls}/etcd/client.crt",
                     "etcd-keyfile": f"{tls}/etcd/client.key"}  # fmt: skip
        elif endpoint.startswith(("http://", "https://")):  # an external etcd, as given
            for kind in ("cafile", "certfile", "keyfile"):
                if value := self.options.text(f"datastore-{kind}"):
                    args[f"etcd-{kind}"] = value
        # SQLite and SQL databases: kine serves the API server on a local socket, no TLS
        return args

    def _controller_manager(self) -> dict[str, str]:
        server = f"{self.data}/server"
        kubeconfig = f"{server}/cred/controller.kubeconfig"
        serving = f"{server}/tls/kube-controller-manager/kube-controller-manager"
        controllers = "*,tokencleaner"
        if not self.options.true("disable-cloud-controller"):  # the embedded CCM runs those
            controllers += ",-service,-route,-cloud-node-lifecycle"
        return {
            "kubeconfig": kubeconfig, "authentication-kubeconfig": kubeconfig,
            "authorization-kubeconfig": kubeconfig, "controllers": controllers,
            "allocate-node-cidrs": "true", "bind-address": LOOPBACK, "secure-port": "10257",
            "profiling": "false", "root-ca-file": f"{server}/tls/server-ca.crt",
            "service-account-private-key-file": f"{server}/tls/service.current.key",
            "use-service-account-credentials": "true",
            "tls-cert-file": f"{serving}.crt", "tls-private-key-file": f"{serving}.key",
        }  # fmt: skip

    def _scheduler(self) -> dict[str, str]:
        kubeconfig = f"{self.data}/server/cred/scheduler.kubeconfig"
        serving = f"{self.data}/server/tls/kube-scheduler/kube-scheduler"
        return {
            "kubeconfig": kubeconfig, "authentication-kubeconfig": kubeconfig,
            "authorization-kubeconfig": kubeconfig, "bind-address": LOOPBACK,
            "secure-port": "10259", "profiling": "false",
            "tls-cert-file": f"{serving}.crt", "tls-private-key-file": f"{serving}.key",
        }  # fmt: skip

    def _etcd(self) -> dict[str, str]:
        tls = f"{self.data}/server/tls/etcd"
        flags = {
            "data-dir": f"{self.data}/server/db/etcd",
            "cert-file": f"{tls}/server-client.crt", "key-file": f"{tls}/server-client.key",
            "client-cert-auth": "true", "trusted-ca-file": f"{tls}/server-ca.crt",
            "peer-cert-file": f"{tls}/peer-server-client.crt",
            "peer-key-file": f"{tls}/peer-server-client.key",
            "peer-client-cert-auth": "true", "peer-trusted-ca-file": f"{tls}/peer-ca.crt",
            "snapshot-count": "10000", "election-timeout": "5000", "heartbeat-interval": "500",
        }  # fmt: skip
        for arg in self.options.each(*_EXTRA_ARGS[ETCD]):  # top-level keys of its config
            key, separator, value = arg.partition("=")
            if separator and key.lstrip("-") not in _ETCD_TLS:
                flags[key.lstrip("-")] = value
        return flags

    def _kubelet(self) -> dict[str, str]:
        agent = f"{self.data}/agent"
        args = {
            "config-dir": f"{agent}/etc/kubelet.conf.d",
            "kubeconfig": f"{agent}/kubelet.kubeconfig",
            "read-only-port": "0",  # given as a flag: the drop-in omits a zero port
        }
        if node := self._node_name():
            args["hostname-override"] = node
        return args

    def _proxy(self) -> dict[str, str]:
        args = {
            "proxy-mode": "iptables", "healthz-bind-address": LOOPBACK,
            "kubeconfig": f"{self.data}/agent/kubeproxy.kubeconfig",
            "conntrack-max-per-core": "0", "conntrack-tcp-timeout-established": "0s",
            "conntrack-tcp-timeout-close-wait": "0s",
        }  # fmt: skip
        if node := self._node_name():
            args["hostname-override"] = node
        return args

    def _node_name(self) -> str:
        """``--node-name``, else the host's name (k3s asks the kernel; /etc/hostname here)."""
        named = self.options.text("node-name")
        if named:
            return named
        try:
            text = self.files.read_text("/etc/hostname") or ""
        except Unassessable:
            return ""
        return text.strip().split("\n", 1)[0][:253]


def _without_config(extra: list[str]) -> list[str]:
    """The kubelet's extra args without ``config`` and ``config-dir``: k3s copies those
    files into its drop-in directory instead of passing them."""
    kept: list[str] = []
    skip = False
    for index, arg in enumerate(extra):
        if skip:
            skip = False
            continue
        key, separator, _ = arg.removeprefix("--").partition("=")
        if key in ("config", "config-dir"):
            skip = not separator and index + 1 < len(extra)
            continue
        kept.append(arg)
    return kept


def _check_kubelet_defaults(files: HostFiles, kubelet: Component, found: Embedded) -> None:
    """The kubelet's settings are the drop-ins k3s writes: without its defaults file (a
    k3s from before them gave the kubelet flags instead), they are unknown."""
    directory = kubelet.value("config-dir") or ""
    try:
        there = files.exists(f"{directory}/{KUBELET_DEFAULTS}")
    except Unassessable as exc:
        found.errors["kubelet-config"] = exc.reason
        return
    if not there:
        found.errors["kubelet-config"] = (
            f"k3s writes the kubelet's settings to {directory}/{KUBELET_DEFAULTS} when it "
            "starts, and that file is not there (a k3s release from before these drop-ins, "
            "which Seawall does not model, or a node that never started)"
        )
