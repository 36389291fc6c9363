"""Every local image format gives the same inventory; merge semantics are honoured."""

from __future__ import annotations

from pathlib import Path

import pytest

import seawall.inventory.scan
from seawall.inventory.scan import InventoryOptions, build_inventory
from seawall.model import Inventory
from tests.support.imagebuild import tar_directory, write_docker_archive, write_oci_layout
from tests.support.sample import EXPECTED, sample_image


def summary(inventory: Inventory) -> set[tuple[str, str, str, int]]:
    layer_of = {layer.digest: layer.index for layer in inventory.image.layers}
    return {
        (p.ecosystem.value, p.name, p.version, layer_of[p.layer_digest]) for p in inventory.packages
    }


def scan(target: Path | str, workers: int = 0, **options: object) -> Inventory:
    inventory_options = InventoryOptions(**options)  # type: ignore[arg-type]
    return build_inventory(str(target), inventory_options, workers=workers)


@pytest.fixture(
    params=[
        "docker-archive",
        "docker-archive.gz",
        "oci-layout",
        "oci-archive",
        "oci-archive.gz",
        "oci-layout-zstd",
        "oci-layout-plain",
    ]
)
def image_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    kind: str = request.param
    if kind.startswith("docker-archive"):
        return write_docker_archive(
            sample_image(), tmp_path / "image.tar", compress=kind.endswith(".gz")
        )
    compression = {"oci-layout-zstd": "zstd", "oci-layout-plain": "none"}.get(kind, "gzip")
    layout = write_oci_layout(sample_image(compression), tmp_path / "layout")
    if kind.startswith("oci-archive"):
        return tar_directory(layout, tmp_path / "image.oci.tar", compress=kind.endswith(".gz"))
    return layout


def test_all_local_formats_give_the_expected_inventory(image_path: Path) -> None:
    inventory = scan(image_path)
    assert summary(inventory) == EXPECTED
    assert inventory.distro is not None
    assert (inventory.distro.id, inventory.distro.version_id) == ("debian", "12")


def test_packages_carry_purl_layer_and_history(tmp_path: Path) -> None:
    inventory = scan(write_oci_layout(sample_image(), tmp_path / "layout"))
    libc = next(p for p in inventory.packages if p.name == "libc6")
    assert (
        libc.purl
        == "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc"
    )
    assert libc.source_name == "glibc"
    assert libc.layer_created_by == "ADD rootfs.tar /"
    left_pad = next(p for p in inventory.packages if p.name == "left-pad")
    assert left_pad.purl == "pkg:npm/left-pad@1.3.0"
    assert left_pad.path == "opt/app/node_modules/left-pad/package.json"
    assert left_pad.licenses == ("MIT",)


def test_layer_cache_is_used_across_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    layout = write_oci_layout(sample_image(), tmp_path / "layout")
    first = scan(layout, cache_dir=cache)
    entries = list(cache.rglob("*.msgpack"))
    assert len(entries) == 3
    # A second read is answered from the cache (its blobs are only hashed): prove it by
    # making any layer walk fail.
    monkeypatch.setattr(seawall.inventory.scan, "_read", _no_layer_walk)
    second = scan(layout, cache_dir=cache, workers=1)
    assert summary(second) == summary(first)


def _no_layer_walk(source: object) -> None:
    raise AssertionError("a cached layer was read again")


def test_named_image_in_a_layout(tmp_path: Path) -> None:
    layout = write_oci_layout(sample_image(), tmp_path / "layout", ref_name="v1")
    assert summary(scan(f"{layout}:v1")) == EXPECTED


def _multi_platform_layout(root: Path) -> Path:
    """An OCI layout whose index lists an amd64 and an arm64 image (different packages)."""
    import json

    from tests.support.imagebuild import Image, Layer, sha256
    from tests.support.sample import OS_RELEASE, npm_package

    entries = []
    for arch, package in (("amd64", "left-pad"), ("arm64", "right-pad")):
        image = Image(
            [
                Layer(
                    {
                        "etc/os-release": OS_RELEASE,
                        f"app/node_modules/{package}/package.json": npm_package(package, "1.0.0"),
                    }
                )
            ],
            architecture=arch,
        )
        sub = write_oci_layout(image, root / arch)
        index = json.loads((sub / "index.json").read_text())
        for blob in (sub / "blobs" / "sha256").iterdir():
            target = root / "blobs" / "sha256" / blob.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.read_bytes())
        entry = index["manifests"][0]
        entry["platform"] = {"os": "linux", "architecture": arch}
        entries.append(entry)
    nested = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": entries,
        }
    ).encode()
    (root / "blobs" / "sha256" / sha256(nested)[7:]).write_bytes(nested)
    (root / "index.json").write_text(
        json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": "application/vnd.oci.image.index.v1+json",
                        "digest": sha256(nested),
                        "size": len(nested),
                    }
                ],
            }
        )
    )
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return root


@pytest.mark.parametrize(
    ("platform", "expected"), [("linux/amd64", "left-pad"), ("linux/arm64", "right-pad")]
)
def test_platform_picks_the_image_from_an_index(
    tmp_path: Path, platform: str, expected: str
) -> None:
    from seawall.image.manifest import Platform
    from seawall.image.source import SourceOptions

    layout = _multi_platform_layout(tmp_path / "multi")
    options = SourceOptions(platform=Platform.parse(platform))
    inventory = build_inventory(str(layout), InventoryOptions(source_options=options))
    assert [p.name for p in inventory.packages] == [expected]
    assert inventory.image.architecture == platform.split("/")[1]


def test_missing_platform_names_the_available_ones(tmp_path: Path) -> None:
    from seawall.errors import InputError
    from seawall.image.manifest import Platform
    from seawall.image.source import SourceOptions

    layout = _multi_platform_layout(tmp_path / "multi")
    options = SourceOptions(platform=Platform.parse("linux/s390x"))
    with pytest.raises(InputError, match="available: linux/amd64, linux/arm64"):
        build_inventory(str(layout), InventoryOptions(source_options=options))


def test_hard_links_are_read_as_their_target(tmp_path: Path) -> None:
    from tests.support.imagebuild import Image, Layer
    from tests.support.sample import OS_RELEASE, metadata

    site = "usr/lib/python3/site-packages"
    image = Image(
        [
            Layer(
                {
                    "etc/os-release": OS_RELEASE,
                    f"{site}/a-1.0.dist-info/METADATA": metadata("a", "1.0"),
                    f"{site}/b-1.0.dist-info/METADATA": (
                        "hardlink",
                        f"{site}/a-1.0.dist-info/METADATA",
                    ),
                },
                compression="none",
            )
        ]
    )
    for target in (
        write_oci_layout(image, tmp_path / "layout"),
        write_docker_archive(image, tmp_path / "image.tar"),
    ):
        inventory = scan(target)
        assert {(p.name, p.path) for p in inventory.packages} == {
            ("a", f"{site}/a-1.0.dist-info/METADATA"),
            ("a", f"{site}/b-1.0.dist-info/METADATA"),
        }


@pytest.mark.parametrize("kind", ["docker-archive", "oci-layout"])
def test_layers_read_in_worker_processes_agree(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import seawall.inventory.scan

    monkeypatch.setattr(seawall.inventory.scan, "PARALLEL_THRESHOLD", 0)
    if kind == "docker-archive":
        target = write_docker_archive(sample_image(), tmp_path / "image.tar")
    else:
        target = write_oci_layout(sample_image(), tmp_path / "layout")
    assert summary(scan(target, workers=2)) == EXPECTED


def test_a_tampered_layer_is_caught_when_workers_read_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import seawall.inventory.scan
    from seawall.errors import DigestMismatchError
    from tests.support.imagebuild import docker_archive_members, layer_tar, write_tar

    monkeypatch.setattr(seawall.inventory.scan, "PARALLEL_THRESHOLD", 0)
    members = docker_archive_members(sample_image())
    name = sorted(n for n in members if n.endswith("layer.tar"))[0]
    members[name] = layer_tar({"etc/evil": b"x"})
    with pytest.raises(DigestMismatchError):
        scan(write_tar(dict(members), tmp_path / "image.tar"), workers=2)


def test_digests_queued_before_the_scan_are_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seawall.image.digests import DigestPrefetcher
    from tests.support.imagebuild import Layer

    image = sample_image()
    image.layers.append(Layer({"opt/data.bin": b"\1" * (2 << 20)}, created_by="ADD data"))
    archive = write_docker_archive(image, tmp_path / "image.tar")
    sizes: list[int] = []
    real = DigestPrefetcher._hash_range

    def counting(self: DigestPrefetcher, mapped: object, offset: int, size: int) -> str:
        sizes.append(size)
        return real(self, mapped, offset, size)  # type: ignore[arg-type]

    monkeypatch.setattr(DigestPrefetcher, "_hash_range", counting)
    with DigestPrefetcher() as prefetcher:
        prefetcher.start_archive(str(archive))  # queues the one layer above 1 MiB
        inventory = build_inventory(str(archive), InventoryOptions(), prefetcher=prefetcher)
    assert summary(inventory) == EXPECTED  # the big layer checked with the queued digest
    assert sizes[0] >= 1 << 20  # hashed first: queued before the scan began
    assert len(sizes) == 4 and max(sizes[1:]) < 1 << 20  # then only the small layers
