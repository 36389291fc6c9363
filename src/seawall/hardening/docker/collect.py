"""Collect the :class:`HostFacts` snapshot once: Engine API calls in parallel threads, the
daemon's command line and daemon.json, audit rules and host files.

A failure of one source is recorded as the reason on the facts (``api_error``,
``cmdline_error``, ``json_error``, ``audit_error``, a container's ``error``); the checks that
need it report ``error`` and the others still run.
"""

from __future__ import annotations

import ipaddress
import os
import posixpath
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seawall.hardening.docker.auditrules import parse_audit_rules
from seawall.hardening.docker.daemonconfig import (
    DEFAULT_CONFIG_FILE,
    DaemonConfig,
    parse_cmdline,
    parse_daemon_json,
)
from seawall.hardening.docker.facts import ContainerFacts, HostFacts, ImageFacts
from seawall.hardening.errors import Unassessable
from seawall.hardening.hostfiles import HostFiles
from seawall.hardening.processes import list_processes

DEFAULT_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
AUDIT_FILES = ("/etc/audit/audit.rules",)
AUDIT_DIR = "/etc/audit/rules.d"
_WORKERS = 16
# ``docker top`` arguments, in order: Docker runs ps with them; Podman 4 only takes format
# descriptors (with ``-eo`` it answers 200 with an empty body).
_TOP_ARGS = ("-eo pid,comm,args", "pid,comm,args")


@dataclass(frozen=True)
class CollectOptions:
    """Where and what to collect."""

    endpoint: str = ""  # Docker endpoint; default $DOCKER_HOST or the local socket
    cert_path: str = ""  # directory with ca.pem, cert.pem, key.pem for tcp+TLS
    root: Path = Path("/")
    include_stopped: bool = False
    trusted_users: tuple[str, ...] = ()
    timeout: int = 30


def default_endpoint(endpoint: str) -> str:
    return endpoint or os.environ.get("DOCKER_HOST", "") or f"unix://{DEFAULT_SOCKETS[0]}"


def collect(options: CollectOptions) -> HostFacts:
    """The snapshot of the host behind ``options.endpoint``."""
    endpoint = default_endpoint(options.endpoint)
    files = HostFiles(options.root)
    facts = HostFacts(
        endpoint=endpoint,
        files=files,
        daemon=DaemonConfig(),
        environment=dict(os.environ),
        trusted_users=options.trusted_users,
    )
    _collect_api(facts, options)
    _collect_daemon(facts)
    if facts.swarm_active:
        facts.listening = tcp_listeners(files, facts.dockerd_pid)
    _collect_audit(facts, options.root)
    return facts


# -- Engine API ------------------------------------------------------------------------------


def _client(options: CollectOptions, endpoint: str) -> Any:
    import docker
    from docker.utils import kwargs_from_env

    class Client(docker.APIClient):  # type: ignore[misc]
        """requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` replace the session's CA:
        the daemon's ``ca.pem`` (or verify=False) must win for a TLS endpoint."""

        def merge_environment_settings(self, *args: Any) -> Any:
            settings = super().merge_environment_settings(*args)
            if args[3] is None:  # no per-request verify: the session's, not the environment's
                settings["verify"] = self.verify
            return settings

    environment = dict(os.environ)
    environment["DOCKER_HOST"] = endpoint
    if options.cert_path:
        environment["DOCKER_CERT_PATH"] = options.cert_path
        environment["DOCKER_TLS_VERIFY"] = "1"
    params = kwargs_from_env(environment=environment)
    return Client(timeout=options.timeout, max_pool_size=_WORKERS, **params)


def _collect_api(facts: HostFacts, options: CollectOptions) -> None:
    import docker.errors

    try:
        api = _client(options, facts.endpoint)
    except docker.errors.DockerException as exc:
        facts.api_error = f"cannot reach the Docker daemon at {facts.endpoint}: {exc}"
        return
    try:
        with ThreadPoolExecutor(_WORKERS) as pool:
            _gather(api, pool, facts, options.include_stopped)
    except _failures() as exc:
        facts.api_error = f"the Docker daemon at {facts.endpoint} failed: {exc}"
    finally:
        api.close()


def _gather(api: Any, pool: ThreadPoolExecutor, facts: HostFacts, stopped: bool) -> None:
    info = pool.submit(api.info)
    version = pool.submit(api.version)
    listed = pool.submit(api.containers, all=True)
    images = pool.submit(api.images)
    networks = pool.submit(api.networks)
    summaries: list[dict[str, Any]] = listed.result()
    chosen = [c for c in summaries if stopped or c.get("State") == "running"]
    container_futures = [pool.submit(_container, api, c) for c in chosen]
    image_futures = [pool.submit(_image, api, i) for i in images.result()]
    facts.info = info.result()
    facts.version = version.result()
    facts.networks = networks.result()
    facts.container_count = len(summaries)
    facts.running_count = sum(1 for c in summaries if c.get("State") == "running")
    facts.image_ids_in_use = {str(c.get("ImageID", "")) for c in summaries}
    facts.containers = [f.result() for f in container_futures]
    facts.images = [f.result() for f in image_futures]
    if facts.swarm_active:
        _gather_swarm(api, pool, facts)


def _api_failure(exc: Exception) -> str:
    import docker.errors

    if isinstance(exc, docker.errors.NotFound):
        return f"vanished during the scan ({exc.explanation or exc})"
    if isinstance(exc, docker.errors.APIError):
        return f"the daemon refused: {exc.explanation or exc}"
    if isinstance(exc, ValueError):
        return f"the daemon sent an unreadable answer ({exc})"
    return f"{type(exc).__name__}: {exc}"


def _failures() -> tuple[type[Exception], ...]:
    """What an API call may raise: the daemon's refusal, or an answer that is not JSON."""
    import docker.errors

    return (docker.errors.DockerException, ValueError)


def _top(api: Any, container_id: str) -> dict[str, Any]:
    """``docker top`` with the first ps arguments the engine accepts (see ``_TOP_ARGS``)."""
    import docker.errors

    for ps_args in _TOP_ARGS[:-1]:
        try:
            return dict(api.top(container_id, ps_args=ps_args))
        except docker.errors.NotFound:
            raise
        except (docker.errors.APIError, ValueError):
            continue
    return dict(api.top(container_id, ps_args=_TOP_ARGS[-1]))


def _container(api: Any, summary: dict[str, Any]) -> ContainerFacts:
    """Inspect one container and, when running, list its processes (``docker top``)."""
    container_id = str(summary.get("Id", ""))
    names = summary.get("Names") or [container_id[:12]]
    name = str(names[0]).lstrip("/")
    try:
        inspect = api.inspect_container(container_id)
    except _failures() as exc:
        return ContainerFacts(id=container_id, name=name, inspect={}, error=_api_failure(exc))
    name = str(inspect.get("Name", name)).lstrip("/")
    if not (inspect.get("State") or {}).get("Running"):
        return ContainerFacts(id=container_id, name=name, inspect=inspect)
    try:
        top = _top(api, container_id)
    except _failures() as exc:
        return ContainerFacts(
            id=container_id, name=name, inspect=inspect, process_error=_api_failure(exc)
        )
    rows = tuple(tuple(str(v) for v in row) for row in (top.get("Processes") or []))
    return ContainerFacts(id=container_id, name=name, inspect=inspect, processes=rows)


def _image(api: Any, summary: dict[str, Any]) -> ImageFacts:
    """Inspect one image and read its history (Podman 4.3 answers an empty body for the
    history of an image whose entries have no ``created`` time: the image is then ``error``)."""
    image_id = str(summary.get("Id", ""))
    try:
        inspect = api.inspect_image(image_id)
        history = api.history(image_id)
    except _failures() as exc:
        return ImageFacts(id=image_id, inspect={"RepoTags": summary.get("RepoTags")},
                          error=_api_failure(exc))  # fmt: skip
    created_by = tuple(str(h.get("CreatedBy", "")) for h in reversed(history or []))
    return ImageFacts(id=image_id, inspect=inspect, history=created_by)


def _gather_swarm(api: Any, pool: ThreadPoolExecutor, facts: HostFacts) -> None:
    if not (facts.info.get("Swarm") or {}).get("ControlAvailable"):
        facts.swarm_error = "this node is not a swarm manager"
        return
    calls: dict[str, Future[Any]] = {
        name: pool.submit(call)
        for name, call in (
            ("swarm", api.inspect_swarm),
            ("nodes", api.nodes),
            ("secrets", api.secrets),
            ("key", api.get_unlock_key),
        )
    }
    try:
        facts.swarm = calls["swarm"].result()
        facts.swarm_nodes = calls["nodes"].result()
        facts.swarm_secrets = len(calls["secrets"].result())
        facts.swarm_unlock_key = str((calls["key"].result() or {}).get("UnlockKey", ""))
    except _failures() as exc:
        facts.swarm_error = _api_failure(exc)


def _address(hex_address: str) -> str:
    """The address of a /proc/net/tcp{,6} entry (``*`` for the wildcard)."""
    raw = bytes.fromhex(hex_address)
    if len(raw) not in (4, 16):
        raise ValueError(f"not an IPv4 or IPv6 address: {hex_address!r}")
    if not any(raw):
        return "*"
    # the kernel prints each 32-bit word in host (little-endian) order
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def _socket_inodes(files: HostFiles, pid: int) -> set[str]:
    fd_dir = files.root / "proc" / str(pid) / "fd"
    inodes: set[str] = set()
    try:
        links = list(fd_dir.iterdir())
    except OSError:
        return inodes
    for link in links:
        target = _readlink(link)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def parse_tcp_table(text: str, owned: set[str] | None = None) -> list[str]:
    """``addr:port`` of the listening sockets of a /proc/net/tcp{,6} table, only those whose
    inode is in ``owned`` if given; malformed lines are skipped."""
    found: list[str] = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != "0A" or (owned is not None and fields[9] not in owned):
            continue
        hex_address, _, hex_port = fields[1].partition(":")
        try:
            address, port = _address(hex_address), int(hex_port, 16)
        except ValueError:
            continue
        found.append(f"[{address}]:{port}" if ":" in address else f"{address}:{port}")
    return found


def tcp_listeners(files: HostFiles, pid: int = 0) -> tuple[str, ...]:
    """``addr:port`` of the listening TCP sockets of process ``pid`` (read in its network
    namespace, matched by socket inode), or of every process when ``pid`` is 0."""
    proc = f"/proc/{pid}/net" if pid else "/proc/net"
    owned = _socket_inodes(files, pid) if pid else None
    found: list[str] = []
    for table in (f"{proc}/tcp", f"{proc}/tcp6"):
        try:
            found += parse_tcp_table(files.read_text(table) or "", owned)
        except Unassessable:
            continue
    return tuple(dict.fromkeys(found))


# -- the daemon's command line and daemon.json -------------------------------------------------


def _socket_of(endpoint: str) -> str:
    return endpoint.removeprefix("unix://") if endpoint.startswith("unix://") else ""


def _serves(flags: dict[str, list[str]], endpoint: str) -> bool:
    """True if a dockerd with ``flags`` listens on ``endpoint``."""
    hosts = flags.get("host", [])
    socket = _socket_of(endpoint)
    default = not hosts or any(h.startswith("fd://") for h in hosts)
    if default and socket in DEFAULT_SOCKETS:
        return True
    targets = {endpoint, socket} - {""}
    if endpoint.startswith("tcp://"):
        port = endpoint.rsplit(":", 1)[-1]
        return any(h.startswith("tcp://") and h.rsplit(":", 1)[-1] == port for h in hosts)
    return any(h in targets or h.removeprefix("unix://") in targets for h in hosts)


def find_dockerd(files: HostFiles, endpoint: str) -> tuple[int, list[str]]:
    """The pid and argv of the dockerd serving ``endpoint``; Unassessable if none is found."""
    dockerds = list_processes(files, lambda name: name == "dockerd")
    candidates = [(p.pid, list(p.argv)) for p in dockerds]
    for pid, argv in candidates:
        flags = parse_cmdline(argv[1:])
        if "host" not in flags:  # its -H sockets may be daemon.json "hosts"
            flags["host"] = _json_hosts(files, config_file_of(files, pid, flags))
        if _serves(flags, endpoint):
            return pid, argv
    seen = f"{len(candidates)} dockerd process(es) seen" if candidates else "no dockerd process"
    raise Unassessable(f"no dockerd serving {endpoint} found under {files.root / 'proc'} ({seen})")


def config_file_of(files: HostFiles, pid: int, flags: dict[str, list[str]]) -> str:
    """The daemon.json path of a dockerd (``--config-file`` relative to its cwd)."""
    config_file = (flags.get("config-file") or [DEFAULT_CONFIG_FILE])[-1]
    if not config_file.startswith("/") and pid:
        cwd = _readlink(files.root / "proc" / str(pid) / "cwd")
        config_file = posixpath.normpath(posixpath.join(cwd or "/", config_file))
    return config_file


def _json_hosts(files: HostFiles, config_file: str) -> list[str]:
    """The ``hosts`` of a daemon.json, [] if it cannot be read (then the default socket)."""
    try:
        hosts = parse_daemon_json(files.read_text(config_file) or "{}").get("hosts", [])
    except (Unassessable, ValueError):
        return []
    return [str(h) for h in (hosts if isinstance(hosts, list) else [hosts])]


def _collect_daemon(facts: HostFacts) -> None:
    daemon = facts.daemon
    files = facts.files
    if facts.engine_kind == "podman":
        daemon.cmdline_error = "Podman has no dockerd"
        daemon.json_error = "Podman has no daemon.json"
        return
    try:
        facts.dockerd_pid, argv = find_dockerd(files, facts.endpoint)
        daemon.flags = parse_cmdline(argv[1:])
        exe = files.root / "proc" / str(facts.dockerd_pid) / "exe"
        facts.dockerd_exe = _readlink(exe)
    except Unassessable as exc:
        daemon.cmdline_error = exc.reason
    daemon.config_file = config_file_of(files, facts.dockerd_pid, daemon.flags)
    try:
        text = files.read_text(daemon.config_file)
    except Unassessable as exc:
        daemon.json_error = exc.reason
        return
    if text is not None:
        try:
            daemon.json = parse_daemon_json(text)
        except ValueError as exc:
            daemon.json_error = f"{daemon.config_file} is unusable: {exc}"


def _readlink(path: Path) -> str:
    try:
        return str(path.readlink())
    except OSError:
        return ""


# -- audit rules -----------------------------------------------------------------------------


def _run_auditctl() -> str | None:
    auditctl = shutil.which("auditctl")
    if auditctl is None:
        return None
    try:
        proc = subprocess.run(
            [auditctl, "-l"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _collect_audit(facts: HostFacts, root: Path) -> None:
    """``auditctl -l`` when assessing this machine, else the rules files under the root."""
    live = _run_auditctl() if root == Path("/") else None
    if live is not None:
        facts.audit = parse_audit_rules(live, "auditctl -l")
        return
    read: Callable[[str], str | None] = facts.files.read_text
    try:
        paths = [*AUDIT_FILES, *(f"{AUDIT_DIR}/{n}" for n in facts.files.list_dir(AUDIT_DIR))]
        texts = [(p, read(p)) for p in paths if p.endswith(".rules")]
    except Unassessable as exc:
        facts.audit_error = exc.reason
        return
    present = [(p, t) for p, t in texts if t is not None]
    source = ", ".join(p for p, _ in present) or "no audit rules (auditctl absent, no rules files)"
    facts.audit = parse_audit_rules("\n".join(t for _, t in present), source)
