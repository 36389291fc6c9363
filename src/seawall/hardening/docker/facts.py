"""The snapshot every check reads: Engine API data, the daemon's configuration and host files,
collected once (see :mod:`seawall.hardening.docker.collect`) and never changed by a check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seawall.hardening.docker.auditrules import AuditRules
from seawall.hardening.docker.daemonconfig import DaemonConfig
from seawall.hardening.errors import Unassessable
from seawall.hardening.hostfiles import HostFiles
from seawall.model import Resource

ORCHESTRATOR_LABELS = (
    "com.docker.swarm.service.id",
    "io.kubernetes.pod.name",
    "com.docker.compose.project",
    "com.hashicorp.nomad.alloc_id",
)


@dataclass(frozen=True)
class ContainerFacts:
    """One container: its inspect data, and its processes when it was running."""

    id: str
    name: str
    inspect: dict[str, Any]  # empty when ``error`` is set
    processes: tuple[tuple[str, ...], ...] = ()  # rows of `docker top` (comm and args)
    error: str = ""  # why the container could not be inspected (vanished, refused)
    process_error: str = ""  # why its processes could not be listed

    @property
    def running(self) -> bool:
        return bool(self.inspect.get("State", {}).get("Running"))

    @property
    def host_config(self) -> dict[str, Any]:
        return self.inspect.get("HostConfig") or {}

    @property
    def config(self) -> dict[str, Any]:
        return self.inspect.get("Config") or {}

    @property
    def image(self) -> str:
        return str(self.config.get("Image") or self.inspect.get("Image") or "")

    @property
    def resource(self) -> Resource:
        return Resource(
            kind="container", name=self.name, id=self.id, attributes={"image": self.image}
        )

    @property
    def orchestrated(self) -> bool:
        labels = self.config.get("Labels") or {}
        return any(label in labels for label in ORCHESTRATOR_LABELS)


@dataclass(frozen=True)
class ImageFacts:
    """One image: inspect data and the ``CreatedBy`` lines of its history (oldest first)."""

    id: str
    inspect: dict[str, Any]
    history: tuple[str, ...] = ()
    error: str = ""

    @property
    def resource(self) -> Resource:
        tags = self.inspect.get("RepoTags") or []
        return Resource(kind="image", name=tags[0] if tags else self.id[:19], id=self.id)


@dataclass
class HostFacts:
    """Everything the checks may read. ``api_error`` is set when the Engine API could not be
    reached; the API fields are then empty and API checks report ``error``."""

    endpoint: str
    files: HostFiles
    daemon: DaemonConfig
    api_error: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    version: dict[str, Any] = field(default_factory=dict)
    container_count: int = 0  # every container, stopped included
    running_count: int = 0
    containers: list[ContainerFacts] = field(default_factory=list)  # the assessed ones
    images: list[ImageFacts] = field(default_factory=list)
    image_ids_in_use: set[str] = field(default_factory=set)
    networks: list[dict[str, Any]] = field(default_factory=list)
    swarm: dict[str, Any] = field(default_factory=dict)  # inspect of the swarm (managers)
    swarm_nodes: list[dict[str, Any]] = field(default_factory=list)
    swarm_secrets: int = 0
    swarm_unlock_key: str = ""
    swarm_error: str = ""
    audit: AuditRules | None = None
    audit_error: str = ""
    dockerd_pid: int = 0
    dockerd_exe: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    trusted_users: tuple[str, ...] = ()
    # in swarm mode, "addr:port" ("*:port" for every interface) of dockerd's TCP listeners
    # (of every process when dockerd was not found), from /proc/PID/net/tcp{,6}
    listening: tuple[str, ...] = ()

    def require_api(self) -> None:
        if self.api_error:
            raise Unassessable(self.api_error)

    @property
    def security_options(self) -> list[str]:
        return [str(o) for o in self.info.get("SecurityOptions") or []]

    def security_option(self, name: str) -> str:
        """The daemon's security option ``name=...`` entry (seccomp, apparmor, userns), or ""."""
        for option in self.security_options:
            if option == name or option.startswith(f"name={name}"):
                return option
        return ""

    @property
    def engine_kind(self) -> str:
        """``podman``, ``rootless`` (Docker), ``docker`` or ``unknown`` (API unreachable)."""
        if self.api_error:
            return "unknown"
        components = self.version.get("Components") or []
        platform = str((self.version.get("Platform") or {}).get("Name", ""))
        if "podman" in platform.lower() or any(
            "podman" in str(c.get("Name", "")).lower() for c in components
        ):
            return "podman"
        if self.security_option("rootless"):
            return "rootless"
        return "docker"

    @property
    def swarm_active(self) -> bool:
        state = (self.info.get("Swarm") or {}).get("LocalNodeState", "inactive")
        return str(state) in ("active", "pending", "locked")

    @property
    def host(self) -> Resource:
        name = str(self.info.get("Name") or "") or self.endpoint
        return Resource(kind="host", name=name, attributes={"endpoint": self.endpoint})
