"""Images in a Docker Engine, exported over the Engine API and read as a stream.

The export (``GET /images/{name}/get``) is a ``docker save`` tar; it is read once, in order,
with layers analysed as they pass, so no copy of the image is ever written to disk.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from seawall.errors import DaemonError, InputError
from seawall.image.assemble import open_docker_archive
from seawall.image.blob import ChunkReader
from seawall.image.reference import looks_like_reference
from seawall.image.source import (
    ImageSource,
    LayerReader,
    OpenedImage,
    SourceOptions,
    register_source,
)
from seawall.image.sources.archive import StreamArchiveStore

DEFAULT_SOCKET = "/var/run/docker.sock"
_CHUNK = 4 << 20


def daemon_configured(host: str) -> bool:
    """True if a daemon may be there: an explicit host, $DOCKER_HOST, or the default socket."""
    return bool(host or os.environ.get("DOCKER_HOST") or Path(DEFAULT_SOCKET).exists())


@register_source
class DockerDaemonSource(ImageSource):
    """An image stored in the local (or a remote) Docker Engine."""

    name = "docker-daemon"
    description = "an image in the Docker Engine (streamed over the Engine API)"
    priority: ClassVar[int] = 50

    def detect(self, target: str, options: SourceOptions) -> bool:
        if not looks_like_reference(target) and not target.startswith("sha256:"):
            return False
        if not daemon_configured(options.docker_host):
            return False
        import docker.errors

        from seawall.image.docker_engine import docker_client

        try:
            client = docker_client(options.docker_host, timeout=5)
            try:
                client.images.get(target)
            finally:
                client.close()
        except (DaemonError, docker.errors.DockerException):
            return False
        return True

    def open(self, target: str, options: SourceOptions, read_layer: LayerReader) -> OpenedImage:
        import docker.errors
        import requests.exceptions

        from seawall.image.docker_engine import docker_client

        client = docker_client(options.docker_host)
        try:
            try:
                client.images.get(target)
                chunks: Iterator[bytes] = client.api.get_image(target, chunk_size=_CHUNK)
            except docker.errors.ImageNotFound:
                raise InputError(f"{target}: no such image in the Docker daemon") from None
            except docker.errors.DockerException as exc:
                raise DaemonError(f"Docker daemon: {exc}") from None
            label = f"docker-daemon:{target}"
            try:
                store = StreamArchiveStore(ChunkReader(chunks), label, read_layer)
            except requests.exceptions.RequestException as exc:
                raise DaemonError(f"{label}: export stream broke off: {exc}") from None
            opened = open_docker_archive(
                store, reference=target, source=self.name, wanted_tag=target
            )
        finally:
            client.close()
        return opened
