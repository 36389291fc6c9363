"""Write images in the real on-disk formats without Docker, for unit and hostile tests.

Layers are tars written with :mod:`tarfile`; images are written as a ``docker save`` archive
(legacy layout), an OCI image layout directory, or an OCI archive, following the specs. Hooks
let tests corrupt any part (digests, manifests, entry names) to check how Seawall reacts.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

File = bytes | tuple[str, str]  # content, or ("symlink"|"hardlink"|"dir", target)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files: dict[str, File], *, mode: int = 0o644) -> bytes:
    """A layer tar holding ``files`` (path -> content or link), in the given order."""
    buffer = io.BytesIO()
    # surrogateescape: a name given with surrogates is written as the raw bytes they stand for
    with tarfile.open(
        fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT, errors="surrogateescape"
    ) as tar:
        for path, content in files.items():
            info = tarfile.TarInfo(path)
            if isinstance(content, tuple):
                kind, target = content
                info.type = {
                    "symlink": tarfile.SYMTYPE,
                    "hardlink": tarfile.LNKTYPE,
                    "dir": tarfile.DIRTYPE,
                }[kind]
                info.linkname = target
                info.mode = 0o755 if kind == "dir" else 0o777
                tar.addfile(info)
            else:
                info.size = len(content)
                info.mode = 0o755 if path.startswith("bin/") or "/bin/" in path else mode
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@dataclass
class Layer:
    files: dict[str, File]
    created_by: str = ""
    compression: str = "gzip"  # gzip, zstd, none

    def tar(self) -> bytes:
        return layer_tar(self.files)

    def blob(self) -> tuple[bytes, str]:
        raw = self.tar()
        if self.compression == "gzip":
            return gzip.compress(raw, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
        if self.compression == "zstd":
            return (
                zstandard.ZstdCompressor().compress(raw),
                "application/vnd.oci.image.layer.v1.tar+zstd",
            )
        return raw, "application/vnd.oci.image.layer.v1.tar"


@dataclass
class Image:
    layers: list[Layer]
    architecture: str = "amd64"
    tag: str = "test/image:1"
    extra_history: list[dict[str, object]] = field(default_factory=list)

    def config(self) -> bytes:
        history = [
            {"created_by": layer.created_by or f"layer {i}"} for i, layer in enumerate(self.layers)
        ]
        history += self.extra_history
        return json.dumps(
            {
                "architecture": self.architecture,
                "os": "linux",
                "created": "2026-01-01T00:00:00Z",
                "rootfs": {
                    "type": "layers",
                    "diff_ids": [sha256(layer.tar()) for layer in self.layers],
                },
                "history": history,
            }
        ).encode()

    def manifest(self) -> tuple[bytes, dict[str, bytes]]:
        """The OCI manifest and every blob (config and layers) by digest."""
        blobs: dict[str, bytes] = {}
        config = self.config()
        blobs[sha256(config)] = config
        descriptors = []
        for layer in self.layers:
            data, media = layer.blob()
            blobs[sha256(data)] = data
            descriptors.append({"mediaType": media, "digest": sha256(data), "size": len(data)})
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": sha256(config),
                    "size": len(config),
                },
                "layers": descriptors,
            }
        ).encode()
        return manifest, blobs


def write_oci_layout(image: Image, root: Path, ref_name: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    manifest, blobs = image.manifest()
    blobs[sha256(manifest)] = manifest
    for digest, data in blobs.items():
        path = root / "blobs" / "sha256" / digest[7:]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    entry: dict[str, object] = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": sha256(manifest),
        "size": len(manifest),
    }
    if ref_name:
        entry["annotations"] = {"org.opencontainers.image.ref.name": ref_name}
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry]}))
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return root


def tar_directory(root: Path, target: Path, *, compress: bool = False) -> Path:
    """Pack a directory's content (relative names) into a tar, e.g. an OCI archive."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(root.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(root)), recursive=False)
    data = buffer.getvalue()
    target.write_bytes(gzip.compress(data) if compress else data)
    return target


def docker_archive_members(image: Image) -> dict[str, bytes]:
    """The members of a legacy ``docker save`` archive."""
    config = image.config()
    members: dict[str, bytes] = {f"{sha256(config)[7:]}.json": config}
    names = []
    for i, layer in enumerate(image.layers):
        layer_id = hashlib.sha256(f"layer{i}".encode()).hexdigest()
        members[f"{layer_id}/VERSION"] = b"1.0"
        members[f"{layer_id}/json"] = json.dumps({"id": layer_id}).encode()
        members[f"{layer_id}/layer.tar"] = layer.tar()
        names.append(f"{layer_id}/layer.tar")
    members["manifest.json"] = json.dumps(
        [
            {
                "Config": f"{sha256(config)[7:]}.json",
                "RepoTags": [image.tag],
                "Layers": names,
            }
        ]
    ).encode()
    return members


def write_tar(members: dict[str, File], target: Path, *, compress: bool = False) -> Path:
    data = layer_tar(members)
    target.write_bytes(gzip.compress(data) if compress else data)
    return target


def write_docker_archive(image: Image, target: Path, *, compress: bool = False) -> Path:
    return write_tar(dict(docker_archive_members(image)), target, compress=compress)
