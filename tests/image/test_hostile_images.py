"""Corrupt, truncated, tampered and malicious images: one clear error, never a traceback."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import seawall.image.blob
import seawall.inventory.scan
from seawall.errors import DigestMismatchError, ImageFormatError, SeawallError, UnsafeInputError
from seawall.inventory.cache import LayerCache, code_fingerprint
from seawall.inventory.scan import InventoryOptions, build_inventory
from tests.support.advisorydb import demo_database
from tests.support.imagebuild import (
    Image,
    Layer,
    docker_archive_members,
    layer_tar,
    write_docker_archive,
    write_oci_layout,
    write_tar,
)
from tests.support.limits import assert_one_line_refusal, run_limited
from tests.support.sample import OS_RELEASE, npm_package, sample_image


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


def _layer_blob(layout: Path, index: int) -> Path:
    """The blob file of layer ``index`` of the single image in ``layout``."""
    entry = json.loads((layout / "index.json").read_text())["manifests"][0]
    manifest = json.loads((layout / "blobs/sha256" / entry["digest"][7:]).read_bytes())
    return layout / "blobs/sha256" / manifest["layers"][index]["digest"][7:]


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_tampered_layer_with_a_warm_cache_fails_the_digest_check(
    tmp_path: Path, compression: str
) -> None:
    image = sample_image()
    for layer in image.layers:
        layer.compression = compression
    layout = write_oci_layout(image, tmp_path / "layout")
    cache = tmp_path / "cache"
    assert run_limited("sbom", "--cache-dir", str(cache), str(layout)).returncode == 0
    assert list(cache.rglob("*.msgpack"))
    _layer_blob(layout, 1).write_bytes(layer_tar({"etc/evil": b"x"}))
    result = run_limited("sbom", "--cache-dir", str(cache), str(layout))
    assert_one_line_refusal(result, "digest mismatch")


def test_tampered_docker_archive_with_a_warm_cache_fails_the_diff_id_check(
    tmp_path: Path,
) -> None:
    members = docker_archive_members(sample_image())
    archive = write_tar(dict(members), tmp_path / "image.tar")
    cache = tmp_path / "cache"
    assert run_limited("sbom", "--cache-dir", str(cache), str(archive)).returncode == 0
    name = next(n for n in members if n.endswith("layer.tar"))
    members[name] = layer_tar({"etc/evil": b"x"})
    write_tar(dict(members), archive)
    result = run_limited("sbom", "--cache-dir", str(cache), str(archive))
    assert_one_line_refusal(result, "digest mismatch")


def test_docker_layer_whose_content_contradicts_its_diff_id(tmp_path: Path) -> None:
    """The config names other content than the layer holds: refused."""
    image = sample_image()
    config = json.loads(image.config())
    config["rootfs"]["diff_ids"][0] = "sha256:" + "0" * 64
    with pytest.raises(DigestMismatchError):
        scan(_archive_with_config(image, config, tmp_path))


@pytest.mark.parametrize("bad", ["", "sha256:abc", "md5:" + "0" * 32, 7])
def test_malformed_diff_id_is_refused(tmp_path: Path, bad: object) -> None:
    image = sample_image()
    config = json.loads(image.config())
    config["rootfs"]["diff_ids"][0] = bad
    result = run_limited("sbom", str(_archive_with_config(image, config, tmp_path)))
    assert_one_line_refusal(result, "diff_ids[0]")


def test_diff_ids_fewer_than_layers_is_refused(tmp_path: Path) -> None:
    image = sample_image()
    config = json.loads(image.config())
    del config["rootfs"]["diff_ids"][-1]
    result = run_limited("sbom", str(_archive_with_config(image, config, tmp_path)))
    assert_one_line_refusal(result, "layers")


def _archive_with_config(image: Image, config: dict[str, object] | bytes, tmp_path: Path) -> Path:
    """A docker archive of ``image`` whose config is replaced by ``config``."""
    members = docker_archive_members(image)
    old = next(n for n in members if n.endswith(".json") and "/" not in n and n != "manifest.json")
    del members[old]
    data = config if isinstance(config, bytes) else json.dumps(config).encode()
    members[hashlib.sha256(data).hexdigest() + ".json"] = data
    manifest = json.loads(members["manifest.json"])
    manifest[0]["Config"] = hashlib.sha256(data).hexdigest() + ".json"
    members["manifest.json"] = json.dumps(manifest).encode()
    return write_tar(dict(members), tmp_path / "image.tar")


LATIN1_IMAGE = Image(
    [
        Layer(
            {
                "etc/os-release": OS_RELEASE,
                "app/caf\udce9/node_modules/l\udce9ft/package.json": npm_package(
                    "left-pad", "1.0.0"
                ),
                "app/\udcff\udcfe/readme": b"x",
            }
        )
    ]
)
LATIN1_PATH = "app/caf\\xe9/node_modules/l\\xe9ft/package.json"


@pytest.mark.parametrize("fmt", ["table", "json", "cyclonedx", "spdx"])
@pytest.mark.parametrize("to_file", [False, True])
def test_latin1_file_names_are_written_escaped_in_every_format(
    tmp_path: Path, fmt: str, to_file: bool
) -> None:
    archive = write_docker_archive(LATIN1_IMAGE, tmp_path / "latin1.tar")
    cache = tmp_path / "cache"
    output = tmp_path / f"out.{fmt}"
    args = ["sbom", "--cache-dir", str(cache), "-f", fmt, str(archive)]
    result = run_limited(
        *args, *(["-o", str(output)] if to_file else []), env={"PYTHONIOENCODING": "utf-8:strict"}
    )
    assert result.returncode == 0, result.stderr
    written = output.read_text(encoding="utf-8") if to_file else result.stdout
    assert LATIN1_PATH in written.replace("\\\\", "\\")
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert [p.suffix for p in entries] == [".msgpack"]  # the entry, no temporary file


def test_latin1_file_names_are_kept_exactly_in_the_cache(tmp_path: Path) -> None:
    layout = write_oci_layout(LATIN1_IMAGE, tmp_path / "layout")
    cache = LayerCache(tmp_path / "cache", code_fingerprint())
    options = InventoryOptions(cache_dir=tmp_path / "cache")
    first = build_inventory(str(layout), options)
    (layer,) = first.image.layers
    entry = cache.get(layer.digest)
    assert entry is not None
    assert "app/caf\udce9/node_modules/l\udce9ft/package.json" in entry.result.outputs
    assert build_inventory(str(layout), options) == first


def test_latin1_file_names_in_an_image_scan(tmp_path: Path) -> None:
    archive = write_docker_archive(LATIN1_IMAGE, tmp_path / "latin1.tar")
    database = demo_database(tmp_path / "db")
    for fmt in ("table", "json", "sarif", "cyclonedx", "spdx"):
        result = run_limited(
            "image", "scan", "--no-cache", "--db", str(database), "-f", fmt, str(archive),
            env={"PYTHONIOENCODING": "utf-8:strict"},
        )  # fmt: skip
        assert result.returncode == 0, (fmt, result.stderr)


def _manifest_blob(layout: Path) -> Path:
    entry = json.loads((layout / "index.json").read_text())["manifests"][0]
    return layout / "blobs/sha256" / entry["digest"][7:]


def _config_blob(layout: Path) -> Path:
    manifest = json.loads(_manifest_blob(layout).read_bytes())
    return layout / "blobs/sha256" / manifest["config"]["digest"][7:]


@pytest.mark.parametrize(
    ("where", "replacement"),
    [
        pytest.param(lambda layout: _layer_blob(layout, 0), "fifo", id="layer-fifo"),
        pytest.param(lambda layout: _layer_blob(layout, 0), "dir", id="layer-dir"),
        pytest.param(_manifest_blob, "fifo", id="manifest-fifo"),
        pytest.param(_config_blob, "dir", id="config-dir"),
        pytest.param(lambda layout: layout / "index.json", "fifo", id="index-fifo"),
        pytest.param(lambda layout: layout / "index.json", "dir", id="index-dir"),
        pytest.param(lambda layout: layout / "oci-layout", "fifo", id="oci-layout-fifo"),
        pytest.param(
            lambda layout: _layer_blob(layout, 1),
            "device",
            id="layer-device",
            marks=pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root"),
        ),
    ],
)
def test_fifo_or_directory_where_a_file_belongs(
    tmp_path: Path, where: Callable[[Path], Path], replacement: str
) -> None:
    layout = write_oci_layout(sample_image(), tmp_path / "layout")
    target = where(layout)
    target.unlink()
    if replacement == "fifo":
        os.mkfifo(target)
    elif replacement == "device":
        os.mknod(target, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # what /dev/zero is
    else:
        target.mkdir()
    kind = {"fifo": "a FIFO", "device": "a character device", "dir": "a directory"}[replacement]
    result = run_limited("sbom", "--no-cache", str(layout), timeout=20)
    assert_one_line_refusal(result, kind)


def test_fifo_as_an_archive(tmp_path: Path) -> None:
    fifo = tmp_path / "image.tar"
    os.mkfifo(fifo)
    result = run_limited("sbom", "--source", "docker-archive", str(fifo), timeout=20)
    assert_one_line_refusal(result, "a FIFO")


DEEP = b"[" * 100_000 + b"]" * 100_000


def test_deeply_nested_manifest_json(tmp_path: Path) -> None:
    members = docker_archive_members(sample_image())
    members["manifest.json"] = DEEP
    result = run_limited("sbom", str(write_tar(dict(members), tmp_path / "deep.tar")))
    assert_one_line_refusal(result, "manifest.json", "nested")


def test_deeply_nested_image_config(tmp_path: Path) -> None:
    image = sample_image()
    config = json.loads(image.config())
    config["history"] = "DEEP"
    data = json.dumps(config).encode().replace(b'"DEEP"', DEEP)
    result = run_limited("sbom", str(_archive_with_config(image, data, tmp_path)))
    assert_one_line_refusal(result, "image config", "nested")


def test_deeply_nested_index_json(tmp_path: Path) -> None:
    layout = write_oci_layout(sample_image(), tmp_path / "layout")
    (layout / "index.json").write_bytes(b'{"manifests": ' + DEEP + b"}")
    result = run_limited("sbom", "--no-cache", str(layout))
    assert_one_line_refusal(result, "index.json", "nested")


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("RepoTags", 5, "field [0].RepoTags: expected list or null, got int"),
        ("Layers", "x", "field [0].Layers: expected list, got string"),
        ("Config", ["a"], "field [0].Config: expected string, got list"),
    ],
)
def test_wrong_types_in_manifest_json(
    tmp_path: Path, field: str, value: object, needle: str
) -> None:
    members = docker_archive_members(sample_image())
    manifest = json.loads(members["manifest.json"])
    manifest[0][field] = value
    members["manifest.json"] = json.dumps(manifest).encode()
    result = run_limited("sbom", str(write_tar(dict(members), tmp_path / "types.tar")))
    assert_one_line_refusal(result, "manifest.json", needle)


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("rootfs", [], "field rootfs: expected object or null, got list"),
        ("history", {"a": 1}, "field history: expected list or null, got object"),
        ("architecture", 5, "field architecture: expected string, got int"),
    ],
)
def test_wrong_types_in_the_image_config(
    tmp_path: Path, field: str, value: object, needle: str
) -> None:
    image = sample_image()
    config = json.loads(image.config())
    config[field] = value
    result = run_limited("sbom", str(_archive_with_config(image, config, tmp_path)))
    assert_one_line_refusal(result, "image config", needle)


@pytest.mark.parametrize(
    "name", ["./typo.tar", "typo.tar", "typo.tar.gz", "../typo", "~/typo", "./typo.tar:v1"]
)
def test_a_missing_local_path_is_no_such_file_not_a_registry_lookup(
    tmp_path: Path, name: str
) -> None:
    result = run_limited("sbom", "--no-cache", name, timeout=30, cwd=tmp_path)
    assert_one_line_refusal(result, f"{name}: no such file or directory")


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda path: path.mkdir(), "a directory but not an OCI image layout"),
        (lambda path: path.write_text("hello"), "not an image archive"),
        (os.mkfifo, "a FIFO, not an image archive"),
    ],
)
def test_an_existing_path_that_is_not_an_image(
    tmp_path: Path, make: Callable[[Path], object], needle: str
) -> None:
    make(tmp_path / "thing")
    result = run_limited("sbom", "--no-cache", "thing", timeout=30, cwd=tmp_path)
    assert_one_line_refusal(result, f"thing: {needle}")


def test_terminal_escapes_in_file_names_never_reach_the_output(tmp_path: Path) -> None:
    name = "app/\x1b]52;c;ZXZpbA==\x07\x1b[2J/node_modules/x/package.json"
    image = Image([Layer({"etc/os-release": OS_RELEASE, name: npm_package("x", "1.0")})])
    archive = write_docker_archive(image, tmp_path / "escapes.tar")
    for fmt in ("table", "json", "cyclonedx", "spdx"):
        result = run_limited("sbom", "--no-cache", "-f", fmt, str(archive))
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
        assert "\\x1b]52" in result.stdout.replace("\\\\", "\\")


def test_latin1_file_names_read_in_worker_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker results travel back pickled: raw names survive the trip."""
    monkeypatch.setattr(seawall.inventory.scan, "PARALLEL_THRESHOLD", 0)
    image = Image([*LATIN1_IMAGE.layers, Layer({"etc/hostname": b"x"})])
    inventory = build_inventory(
        str(write_oci_layout(image, tmp_path / "layout")), InventoryOptions(), workers=2
    )
    assert [p.path for p in inventory.packages] == [LATIN1_PATH]


def test_tampered_layer_with_a_warm_cache_and_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seawall.inventory.scan, "PARALLEL_THRESHOLD", 0)
    layout = write_oci_layout(sample_image(), tmp_path / "layout")
    options = InventoryOptions(cache_dir=tmp_path / "cache")
    build_inventory(str(layout), options, workers=2)
    _layer_blob(layout, 2).write_bytes(gzip.compress(layer_tar({"etc/evil": b"x"})))
    with pytest.raises(DigestMismatchError):
        build_inventory(str(layout), options, workers=2)


def test_an_entry_name_longer_than_path_max_is_refused(tmp_path: Path) -> None:
    """A 1 MB name (a PAX record allows it): every walk over its components was quadratic."""
    image = Image([Layer({"etc/os-release": OS_RELEASE, "a/" * 500_000 + "l": ("symlink", "x")})])
    result = run_limited("sbom", "--no-cache", str(write_oci_layout(image, tmp_path / "l")))
    assert_one_line_refusal(result, "no file system path is longer than 4096")


def test_more_layers_than_any_runtime_stacks_are_refused(tmp_path: Path) -> None:
    image = Image([Layer({f"f{i}": b"x"}, compression="none") for i in range(501)])
    result = run_limited("sbom", "--no-cache", str(write_docker_archive(image, tmp_path / "i")))
    assert_one_line_refusal(result, "501 layers; refusing more than 500")
