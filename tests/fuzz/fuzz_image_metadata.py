"""Fuzz target: the image metadata decoders (``seawall.image.manifest``, ``assemble``) that
read ``manifest.json``, image configs, indexes and manifests from any image. Anything but an
InputError is a bug."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import atheris

with atheris.instrument_imports():
    from seawall.errors import InputError
    from seawall.image.assemble import DockerImage, _docker_entry
    from seawall.image.manifest import (
        ImageConfig,
        base_layer_count,
        build_image_info,
        decode_json,
        index_entries,
        is_index,
        load_json,
        manifest_parts,
        select_platform,
    )


def _config(data: bytes) -> None:
    config = decode_json(data, ImageConfig, "image config")
    base_layer_count(config)
    build_image_info(
        reference="fuzz", source="fuzz", config=config, config_digest="", layers=[("", 0, "")]
    )


def _document(data: bytes) -> None:
    doc: dict[str, Any] = load_json(data, "manifest")
    if is_index(doc):
        select_platform(index_entries(doc, "index"), None, "index")
    else:
        manifest_parts(doc, "manifest")


def TestOneInput(data: bytes) -> None:
    with contextlib.suppress(InputError):
        _docker_entry(decode_json(data, list[DockerImage], "manifest.json"), "a:1", "fuzz")
    with contextlib.suppress(InputError):
        _config(data)
    with contextlib.suppress(InputError):
        _document(data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
