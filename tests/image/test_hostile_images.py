"""Corrupt, truncated, tampered and malicious images: one clear error, never a traceback."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

import seawall.image.blob
from seawall.errors import DigestMismatchError, ImageFormatError, SeawallError, UnsafeInputError
from seawall.inventory.scan import InventoryOptions, build_inventory
from tests.support.imagebuild import (
    Image,
    Layer,
    docker_archive_members,
    layer_tar,
    write_oci_layout,
    write_tar,
)
from tests.support.sample import OS_RELEASE, sample_image


def scan(target: Path) -> None:
    build_inventory(str(target), InventoryOptions())


def test_tampered_layer_blob_fails_the_digest_check(tmp_path: Path) -> None:
    layout = write_oci_layout(sample_image(), tmp_path / "layout")
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(
        (layout / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_bytes()
    )
    blob = layout / "blobs/sha256" / manifest["layers"][1]["digest"][7:]
    blob.write_bytes(gzip.compress(layer_tar({"etc/evil": b"x"})))
    with pytest.raises(DigestMismatchError, match="digest mismatch"):
        scan(layout)


def test_tampered_docker_archive_layer_fails_the_diff_id_check(tmp_path: Path) -> None:
    members = docker_archive_members(sample_image())
    name = next(n for n in members if n.endswith("layer.tar"))
    members[name] = layer_tar({"etc/evil": b"x"})
    with pytest.raises(DigestMismatchError):
        scan(write_tar(dict(members), tmp_path / "image.tar"))


def test_tampered_config_fails(tmp_path: Path) -> None:
    members = docker_archive_members(sample_image())
    name = next(n for n in members if n.endswith(".json") and n != "manifest.json" and "/" not in n)
    members[name] = members[name].replace(b'"amd64"', b'"arm64"')
    with pytest.raises(DigestMismatchError):
        scan(write_tar(dict(members), tmp_path / "image.tar"))


def test_tar_that_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ImageFormatError, match="not an image archive"):
        scan(write_tar({"hello.txt": b"hi"}, tmp_path / "plain.tar"))


def test_missing_manifest_layer(tmp_path: Path) -> None:
    members = docker_archive_members(sample_image())
    del members[next(n for n in members if n.endswith("layer.tar"))]
    with pytest.raises(ImageFormatError, match="no"):
        scan(write_tar(dict(members), tmp_path / "image.tar"))


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.99])
def test_truncated_archives(tmp_path: Path, cut: float) -> None:
    whole = write_tar(dict(docker_archive_members(sample_image())), tmp_path / "whole.tar")
    data = whole.read_bytes()
    truncated = tmp_path / "truncated.tar"
    content_end = len(data.rstrip(b"\0"))  # tar pads with zeros: cut real content
    truncated.write_bytes(data[: int(content_end * cut)])
    with pytest.raises(SeawallError):
        scan(truncated)


@pytest.mark.parametrize("name", ["../../etc/cron.d/evil", "/etc/passwd", "usr/../../x"])
def test_layer_entries_leaving_the_root_are_refused(tmp_path: Path, name: str) -> None:
    image = Image([Layer({"etc/os-release": OS_RELEASE, name: b"x"})])
    with pytest.raises(UnsafeInputError):
        scan(write_oci_layout(image, tmp_path / "layout"))


def test_symlink_loops_and_escapes_stay_inside(tmp_path: Path) -> None:
    image = Image(
        [
            Layer(
                {
                    "etc/os-release": ("symlink", "../../../../../etc/loop"),
                    "etc/loop": ("symlink", "/etc/os-release"),
                    "usr/lib/os-release": OS_RELEASE,
                }
            )
        ]
    )
    inventory = build_inventory(str(write_oci_layout(image, tmp_path / "l")), InventoryOptions())
    assert inventory.distro is not None and inventory.distro.id == "debian"


def test_decompression_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seawall.image.blob, "RATIO_GRACE", 1 << 20)
    bomb = layer_tar({"zeros": b"\0" * (64 << 20)})
    image = Image([Layer({"etc/os-release": OS_RELEASE})])
    layout = write_oci_layout(image, tmp_path / "layout")
    index = json.loads((layout / "index.json").read_text())
    manifest_path = layout / "blobs/sha256" / index["manifests"][0]["digest"][7:]
    manifest = json.loads(manifest_path.read_bytes())
    layer_path = layout / "blobs/sha256" / manifest["layers"][0]["digest"][7:]
    layer_path.write_bytes(gzip.compress(bomb, compresslevel=1))
    with pytest.raises(UnsafeInputError, match="decompression bomb"):
        scan(layout)


@pytest.mark.parametrize("content", [b"", b"\x1f\x8b garbage", b"not an image" * 100])
def test_cli_prints_one_line_and_exits_2(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.tar"
    bad.write_bytes(content + b"\0" * 600 if content else content)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "seawall",
            "sbom",
            "--source",
            "docker-archive",
            "--no-cache",
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error:")
    assert len(result.stderr.strip().splitlines()) == 1
