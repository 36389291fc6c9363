"""Image manifests, indexes and configs (OCI and Docker v2), and platform selection.

Shared by every source: an OCI layout, an OCI archive, a registry and a ``docker save``
archive all end in the same thing, a config plus an ordered list of layer blobs.
"""

from __future__ import annotations

import platform as host_platform
import re
from typing import Any, TypeVar

import msgspec

from seawall.errors import ImageFormatError, InputError, UnsafeInputError
from seawall.model import ImageInfo, LayerInfo
from seawall.safety.jsondoc import JsonError, JsonLimitError, parse_json

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset((OCI_INDEX, DOCKER_LIST))
MANIFEST_TYPES = frozenset((OCI_MANIFEST, DOCKER_MANIFEST))
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
SHA256_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
MAX_LAYERS = 500  # Docker stops at 127, the kernel's overlayfs near 500
MAX_JSON = 16 * 1024 * 1024  # manifests and configs are kilobytes; refuse anything huge
_ARCH_ALIASES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}


class Descriptor(msgspec.Struct, frozen=True, kw_only=True):
    """A content descriptor: what a manifest or index says about a blob."""

    media_type: str = ""
    digest: str
    size: int = 0
    platform: str = ""  # "os/arch[/variant]" for index entries
    ref_name: str = ""  # org.opencontainers.image.ref.name annotation


class Platform(msgspec.Struct, frozen=True):
    """A target platform such as ``linux/amd64`` or ``linux/arm64/v8``."""

    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise InputError(
                f"invalid platform {text!r}", hint="use os/arch[/variant], e.g. linux/arm64"
            )
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else "")

    @classmethod
    def host(cls) -> Platform:
        machine = host_platform.machine().lower()
        return cls("linux", _ARCH_ALIASES.get(machine, machine))

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


class HistoryEntry(msgspec.Struct, kw_only=True):
    """One step of the build, as the image config records it."""

    created_by: str = ""
    empty_layer: bool | None = None


class RootFS(msgspec.Struct, kw_only=True):
    """The config's description of the layer stack."""

    type: str = ""
    diff_ids: list[str] | None = None  # checked by diff_ids(): present, sha256 each


class ImageConfig(msgspec.Struct, kw_only=True):
    """The fields of an image config Seawall reads, each type-checked when decoded."""

    architecture: str = ""
    os: str = ""
    variant: str = ""
    created: str = ""
    rootfs: RootFS | None = None
    history: list[HistoryEntry] | None = None


T = TypeVar("T")


def decode_json(data: bytes, into: type[T], what: str) -> T:
    """Decode the JSON document ``data`` into the type ``into`` in one line's worth of
    trouble: too large, nested too deep (checked before any parser recurses), not JSON, or
    a field of the wrong type ("manifest.json: field [0].RepoTags: expected list, got int")."""
    if len(data) > MAX_JSON:
        raise ImageFormatError(f"{what} is {len(data)} bytes; refusing more than {MAX_JSON}")
    try:
        return parse_json(data, into)
    except JsonLimitError as exc:
        raise UnsafeInputError(f"{what}: {exc}") from None
    except JsonError as exc:
        raise ImageFormatError(f"{what}: {exc}") from None


def load_json(data: bytes, what: str) -> dict[str, Any]:
    """Decode a JSON object (an index, a manifest) as :func:`decode_json` does."""
    return decode_json(data, dict[str, Any], what)


def _descriptor(raw: Any, what: str) -> Descriptor:
    if not isinstance(raw, dict) or not isinstance(raw.get("digest"), str):
        raise ImageFormatError(f"{what}: descriptor without a digest")
    platform = raw.get("platform") or {}
    plat = ""
    if isinstance(platform, dict) and platform.get("architecture"):
        plat = str(
            Platform(
                str(platform.get("os", "")),
                str(platform["architecture"]),
                str(platform.get("variant", "")),
            )
        )
    annotations = raw.get("annotations") or {}
    size = raw.get("size", 0)
    return Descriptor(
        media_type=str(raw.get("mediaType", "")),
        digest=raw["digest"],
        size=size if isinstance(size, int) and size >= 0 else 0,
        platform=plat,
        ref_name=str(annotations.get("org.opencontainers.image.ref.name", ""))
        if isinstance(annotations, dict)
        else "",
    )


def is_index(doc: dict[str, Any]) -> bool:
    """True for an OCI index or a Docker manifest list."""
    return str(doc.get("mediaType")) in INDEX_TYPES or (
        "manifests" in doc and "layers" not in doc and "config" not in doc
    )


def index_entries(doc: dict[str, Any], what: str) -> list[Descriptor]:
    """The manifests an index lists."""
    manifests = doc.get("manifests")
    if not isinstance(manifests, list):
        raise ImageFormatError(f"{what}: index without a manifests list")
    return [_descriptor(m, what) for m in manifests]


def select_platform(entries: list[Descriptor], wanted: Platform | None, what: str) -> Descriptor:
    """Pick the manifest for ``wanted`` (default: the host's platform) from an index.

    An index with a single image manifest needs no choice. Attestation manifests
    (``unknown/unknown``) never match.
    """
    images = [e for e in entries if not e.platform.startswith("unknown/")]
    if len(images) == 1 and wanted is None:
        return images[0]
    target = wanted or Platform.host()
    exact = [e for e in images if e.platform == str(target)]
    if not exact and not target.variant:
        exact = [e for e in images if e.platform.startswith(f"{target.os}/{target.architecture}")]
    if exact:
        return exact[0]
    available = ", ".join(sorted({e.platform or "?" for e in images})) or "none"
    raise InputError(
        f"{what} has no image for platform {target}",
        hint=f"available: {available}; choose one with --platform",
    )


def manifest_parts(doc: dict[str, Any], what: str) -> tuple[Descriptor, list[Descriptor]]:
    """The config descriptor and the layer descriptors (base first) of an image manifest."""
    if doc.get("schemaVersion") == 1:
        raise ImageFormatError(
            f"{what}: Docker schema 1 manifests are not supported",
            hint="re-push the image with a current Docker or registry",
        )
    if "config" not in doc or not isinstance(doc.get("layers"), list):
        raise ImageFormatError(f"{what} is not an image manifest")
    return _descriptor(doc["config"], what), [_descriptor(x, what) for x in doc["layers"]]


def diff_ids(config: ImageConfig, what: str) -> list[str]:
    """The config's ``rootfs.diff_ids``: digests of each uncompressed layer, base first.

    Each must be a sha256 digest: the layers of a ``docker save`` archive are verified
    against their diff_id only, so an empty or malformed one would let any content through
    (and in any image, they are the layer digests an inventory reports)."""
    ids = config.rootfs.diff_ids if config.rootfs else None
    if ids is None:
        raise ImageFormatError(f"{what}: image config without rootfs.diff_ids")
    for i, digest in enumerate(ids):
        if not SHA256_DIGEST.match(digest):
            raise ImageFormatError(
                f"{what}: image config rootfs.diff_ids[{i}] is not a sha256 digest"
            )
    return ids


def layer_history(config: ImageConfig, layer_count: int) -> list[str]:
    """The ``created_by`` of the history entry that made each layer ('' when unknown)."""
    made = [h for h in config.history or () if not h.empty_layer]
    if len(made) != layer_count:
        return [""] * layer_count
    return [h.created_by for h in made]


_BASE_END = ("CMD", "ENTRYPOINT")


def base_layer_count(config: ImageConfig) -> int:
    """Layers inherited from the base image, judged from the history (0 when unknown).

    ``docker build`` copies the base image's history, which usually ends with an empty-layer
    ``CMD`` or ``ENTRYPOINT``; the layers before the last such entry that is followed by
    more layers are the base image's.
    """
    seen = boundary = candidate = 0
    for entry in config.history or ():
        if entry.empty_layer:
            words = entry.created_by.replace("#(nop)", " ").split()
            if words[:1] == ["/bin/sh"]:
                words = words[2:]
            if words and words[0].upper() in _BASE_END:
                candidate = seen
            continue
        seen += 1
        if candidate and candidate < seen:
            boundary = candidate
    return boundary


def build_image_info(
    *,
    reference: str,
    source: str,
    config: ImageConfig,
    config_digest: str,
    layers: list[tuple[str, int, str]],
    manifest_digest: str = "",
    repo_tags: tuple[str, ...] = (),
) -> ImageInfo:
    """Assemble :class:`ImageInfo`; ``layers`` holds (stored digest, size, media type).

    More than :data:`MAX_LAYERS` layers is refused: no runtime could stack them, and merging
    costs layers times files."""
    if len(layers) > MAX_LAYERS:
        raise UnsafeInputError(
            f"{reference}: {len(layers)} layers; refusing more than {MAX_LAYERS}",
            hint="overlay file systems stack at most a few hundred",
        )
    ids = diff_ids(config, reference)
    if len(ids) != len(layers):
        raise ImageFormatError(
            f"{reference}: manifest lists {len(layers)} layers but the config {len(ids)}"
        )
    created_by = layer_history(config, len(layers))
    return ImageInfo(
        reference=reference,
        source=source,
        config_digest=config_digest,
        manifest_digest=manifest_digest,
        repo_tags=repo_tags,
        os=config.os,
        architecture=config.architecture,
        variant=config.variant,
        created=config.created,
        base_layers=base_layer_count(config),
        layers=tuple(
            LayerInfo(
                index=i,
                digest=digest,
                diff_id=ids[i],
                size=size,
                media_type=media,
                created_by=created_by[i],
            )
            for i, (digest, size, media) in enumerate(layers)
        ),
    )
