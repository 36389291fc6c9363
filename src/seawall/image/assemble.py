"""Turn a store of named blobs into an :class:`OpenedImage`, the OCI way or the Docker way.

Every local image format is a set of named files: an OCI layout directory, an OCI archive,
a ``docker save`` archive (legacy or OCI-style) and the Docker daemon's export stream. Stores
give access to those names; the two functions here know what the names mean.
"""

from __future__ import annotations

import hashlib
import re
from typing import Protocol

import msgspec

from seawall.errors import ImageFormatError, InputError
from seawall.image.blob import BlobRef, check_digest
from seawall.image.manifest import (
    SHA256_DIGEST,
    ImageConfig,
    Platform,
    build_image_info,
    decode_json,
    diff_ids,
    index_entries,
    is_index,
    load_json,
    manifest_parts,
    select_platform,
)
from seawall.image.source import LayerBlob, OpenedImage, StreamedBlob

_HEX_NAME = re.compile(r"(?:^|/)(?:blobs/sha256/)?([0-9a-f]{64})(?:\.json)?$")
MAX_NESTED_INDEXES = 4


class BlobStore(Protocol):
    """Named files of an image format."""

    label: str

    def read(self, name: str) -> bytes:
        """The content of a small file (manifest, config); ImageFormatError if missing."""

    def has(self, name: str) -> bool:
        """True if the file exists."""

    def blob(self, name: str) -> BlobRef | StreamedBlob:
        """Where a layer's bytes are."""


def blob_name(digest: str) -> str:
    """The file name of a blob in an OCI layout; refuses anything but a sha256 digest."""
    if not SHA256_DIGEST.match(digest):
        raise ImageFormatError(f"unsupported or malformed digest {digest[:80]!r}")
    return "blobs/sha256/" + digest.split(":", 1)[1]


def read_verified(store: BlobStore, digest: str, what: str) -> bytes:
    """Read the blob named by ``digest`` and check that it hashes to it."""
    data = store.read(blob_name(digest))
    check_digest(f"{store.label}: {what}", digest, hashlib.sha256(data).hexdigest())
    return data


def open_oci(
    store: BlobStore,
    *,
    reference: str,
    source: str,
    platform: Platform | None,
    ref_name: str = "",
) -> OpenedImage:
    """Open the image an OCI ``index.json`` points to (by ``ref_name`` and platform)."""
    layout = store.read("oci-layout") if store.has("oci-layout") else b""
    if layout and load_json(layout, "oci-layout").get("imageLayoutVersion") != "1.0.0":
        raise ImageFormatError(f"{store.label}: unsupported OCI layout version")
    entries = index_entries(load_json(store.read("index.json"), "index.json"), "index.json")
    if ref_name:
        named = [e for e in entries if e.ref_name == ref_name]
        if not named:
            names = ", ".join(sorted({e.ref_name for e in entries if e.ref_name})) or "none"
            raise InputError(
                f"{store.label} has no image named {ref_name!r}",
                hint=f"names in index.json: {names}",
            )
        entries = named
    if not entries:
        raise ImageFormatError(f"{store.label}: index.json lists no image")
    descriptor = entries[0] if len(entries) == 1 else select_platform(entries, platform, reference)
    for _ in range(MAX_NESTED_INDEXES):
        doc = load_json(read_verified(store, descriptor.digest, "manifest"), "manifest")
        if not is_index(doc):
            break
        descriptor = select_platform(index_entries(doc, "index"), platform, reference)
    else:
        raise ImageFormatError(f"{store.label}: indexes nested too deeply")
    config_desc, layer_descs = manifest_parts(doc, f"{store.label}: manifest")
    config = decode_json(
        read_verified(store, config_desc.digest, "config"), ImageConfig, "image config"
    )
    info = build_image_info(
        reference=reference,
        source=source,
        config=config,
        config_digest=config_desc.digest,
        manifest_digest=descriptor.digest,
        layers=[(d.digest, d.size, d.media_type) for d in layer_descs],
        repo_tags=(ref_name,) if ref_name else (),
    )
    blobs = tuple(
        LayerBlob(info=layer, blob=store.blob(blob_name(d.digest)), digest=d.digest)
        for layer, d in zip(info.layers, layer_descs, strict=True)
    )
    return OpenedImage(info=info, layers=blobs)


class DockerImage(msgspec.Struct):
    """One image of a ``docker save`` ``manifest.json``."""

    config: str = msgspec.field(name="Config")
    layers: list[str] = msgspec.field(name="Layers")
    repo_tags: list[str] | None = msgspec.field(default=None, name="RepoTags")


def _docker_entry(images: list[DockerImage], wanted_tag: str, label: str) -> DockerImage:
    if not images:
        raise ImageFormatError(f"{label}: manifest.json lists no image")
    if wanted_tag:
        for image in images:
            if wanted_tag in (image.repo_tags or ()):
                return image
    if len(images) == 1:
        return images[0]
    tags = ", ".join(t for i in images for t in i.repo_tags or ()) or "untagged images"
    raise InputError(f"{label} holds {len(images)} images", hint=f"name one of: {tags}")


def open_docker_archive(
    store: BlobStore, *, reference: str, source: str, wanted_tag: str = ""
) -> OpenedImage:
    """Open an image from a ``docker save`` ``manifest.json`` (legacy or OCI-style names)."""
    images = decode_json(
        store.read("manifest.json"), list[DockerImage], f"{store.label}: manifest.json"
    )
    entry = _docker_entry(images, wanted_tag, store.label)
    config_name, layer_names = entry.config, entry.layers
    config_bytes = store.read(config_name)
    named = _HEX_NAME.search(config_name)
    config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    if named:
        check_digest(f"{store.label}: config", f"sha256:{named.group(1)}", config_digest[7:])
    config = decode_json(config_bytes, ImageConfig, "image config")
    ids = diff_ids(config, store.label)
    info = build_image_info(
        reference=reference,
        source=source,
        config=config,
        config_digest=config_digest,
        layers=[(ids[i] if i < len(ids) else "", 0, "") for i in range(len(layer_names))],
        repo_tags=tuple(entry.repo_tags or ()),
    )
    blobs = []
    for layer, name in zip(info.layers, layer_names, strict=True):
        blobs.append(LayerBlob(info=layer, blob=store.blob(name), content_digest=layer.diff_id))
    return OpenedImage(info=info, layers=tuple(blobs))
