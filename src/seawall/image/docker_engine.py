"""Connecting to a Docker Engine (the ``docker`` library is imported only when needed)."""

from __future__ import annotations

from typing import Any

import docker
import docker.errors

from seawall.errors import DaemonError


def docker_client(host: str = "", timeout: int = 120) -> Any:
    """A Docker Engine client for ``host`` (default ``$DOCKER_HOST`` or the local socket)."""
    try:
        if host:
            return docker.DockerClient(base_url=host, timeout=timeout)
        return docker.from_env(timeout=timeout)
    except docker.errors.DockerException as exc:
        raise DaemonError(
            f"cannot reach the Docker daemon: {exc}",
            hint="is dockerd running? set DOCKER_HOST or --docker-host",
        ) from None
