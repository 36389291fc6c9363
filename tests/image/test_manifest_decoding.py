"""The image metadata decoders on arbitrary input: a result or an InputError, nothing else."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.errors import InputError
from seawall.image.assemble import DockerImage
from seawall.image.manifest import (
    ImageConfig,
    base_layer_count,
    decode_json,
    diff_ids,
    index_entries,
    is_index,
    layer_history,
    load_json,
    manifest_parts,
)

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            ["manifests", "layers", "config", "digest", "rootfs", "diff_ids", "history",
             "platform", "annotations", "size", "mediaType", "schemaVersion", "Config",
             "Layers", "RepoTags", "created_by", "empty_layer", "architecture", "os"]
        ) | st.text(max_size=5),
        inner,
        max_size=6,
    ),
    max_leaves=30,
)  # fmt: skip


def use_everything(data: bytes) -> None:
    """Every decoder and reader of decoded metadata over ``data``."""
    for decode in (
        lambda: decode_json(data, list[DockerImage], "manifest.json"),
        lambda: _config(data),
        lambda: _index_or_manifest(load_json(data, "manifest")),
    ):
        with contextlib.suppress(InputError):
            decode()


def _config(data: bytes) -> None:
    config = decode_json(data, ImageConfig, "image config")
    layer_history(config, 3)
    base_layer_count(config)
    diff_ids(config, "image config")


def _index_or_manifest(doc: dict[str, Any]) -> None:
    if is_index(doc):
        index_entries(doc, "index")
    else:
        manifest_parts(doc, "manifest")


@settings(max_examples=300, deadline=None)
@given(documents)
def test_arbitrary_json_gives_a_result_or_an_input_error(document: object) -> None:
    use_everything(json.dumps(document).encode())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_give_a_result_or_an_input_error(data: bytes) -> None:
    use_everything(data)


@given(st.integers(1, 5000))
def test_any_nesting_depth_gives_a_result_or_an_input_error(depth: int) -> None:
    use_everything(b"[" * depth + b"]" * depth)
    use_everything(b'{"a":' * depth + b"1" + b"}" * depth)
