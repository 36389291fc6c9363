"""Images built for real by Docker, read from every source: the same inventory each time.

The test image holds real metadata files of every supported ecosystem (copied from
``tests/fixtures``) over a 2 MB busybox base, in several layers, with deletions that make
whiteouts. It is read from the Docker daemon, ``docker save`` archives (plain and gzip), three
registries (open, basic auth, bearer token), and an OCI layout and OCI archive copied from the
registry.
"""

from __future__ import annotations

import gzip
import lzma
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seawall.errors import AuthenticationError
from seawall.image.source import SourceOptions
from seawall.inventory.scan import InventoryOptions, build_inventory
from seawall.model import Inventory
from tests.support.imagebuild import tar_directory
from tests.support.pull import pull_to_oci_layout
from tests.support.testenv import BuildImage, PushImage, Registry, SeawallTestEnv

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inventory"
SITE = "usr/local/lib/python3.11/site-packages"
DIST = "usr/lib/python3/dist-packages"

DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
COPY base/ /
COPY app/ /
RUN ["/bin/busybox", "rm", "-rf", "/usr/local/lib/python3.11/site-packages/six-1.16.0.dist-info", \
     "/app/node_modules/debug"]
COPY late/ /
"""


def _put(root: Path, relative: str, fixture: str) -> None:
    data = (FIXTURES / fixture).read_bytes()
    if fixture.endswith(".xz"):
        data = lzma.decompress(data)
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    if "/bin/" in f"/{relative}":
        target.chmod(0o755)


def make_context(root: Path) -> Path:
    shutil.copy("/bin/busybox", root / "busybox")
    (root / "Dockerfile").write_text(DOCKERFILE)
    base, app, late = root / "base", root / "app", root / "late"
    _put(base, "etc/os-release", "os_release/debian-12.os-release")
    _put(base, "var/lib/dpkg/status", "dpkg/status")
    _put(base, "var/lib/dpkg/info/python3-apt.list", "dpkg/info/python3-apt.list")
    pkg_info = base / DIST / "python_apt-2.6.0.egg-info" / "PKG-INFO"
    pkg_info.parent.mkdir(parents=True)
    pkg_info.write_text("Metadata-Version: 1.1\nName: python-apt\nVersion: 2.6.0\n")
    for name, fixture in (
        ("requests-2.32.3", "requests"),
        ("six-1.16.0", "six"),
        ("attrs-25.4.0", "attrs"),
        ("packaging-24.2", "packaging"),
    ):
        _put(app, f"{SITE}/{name}.dist-info/METADATA", f"python/{fixture}.METADATA")
    _put(app, "app/node_modules/ms/package.json", "npm/package-json/ms.json")
    _put(app, "app/node_modules/debug/package.json", "npm/package-json/debug.json")
    _put(app, "app/lib/commons-cli.jar", "java/commons-cli.jar")
    _put(app, "app/webapps/webapp.war", "java/webapp.war")
    _put(app, "usr/local/bin/hello", "gobinary/hello-linux-amd64.xz")
    _put(app, "usr/local/bin/uvx", "rustbinary/uvx-0.13.9-sparse.xz")
    _put(app, "usr/local/bundle/specifications/rack-2.2.22.gemspec", "gem/rack-2.2.22.gemspec")
    _put(app, "app/ruby/Gemfile.lock", "gem/tapioca.Gemfile.lock")
    _put(app, "app/vendor/composer/installed.json", "composer/installed-v2.json")
    _put(app, "app/rust/Cargo.lock", "cargo/Cargo.lock")
    _put(app, "app/dotnet/Python.Runtime.deps.json", "dotnet/Python.Runtime.deps.json")
    _put(late, "app/yarn/yarn.lock", "npm/yarn-v1.lock")
    return root


def keys(inventory: Inventory) -> set[tuple[str, str, str, str, str]]:
    """What must be equal across sources: package identity, path and the step that made it."""
    return {
        (p.ecosystem.value, p.name, p.version, p.path, p.layer_created_by)
        for p in inventory.packages
    }


def scan(target: str, **source: object) -> Inventory:
    options = InventoryOptions(source_options=SourceOptions(**source))  # type: ignore[arg-type]
    return build_inventory(target, options)


@pytest.fixture(scope="module")
def built(build_image: BuildImage, tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_image(make_context(tmp_path_factory.mktemp("context")))


@pytest.fixture(scope="module")
def reference(built: str, testenv: SeawallTestEnv) -> Inventory:
    return scan(built, docker_host=testenv.docker_host)


def test_every_ecosystem_is_found_with_its_layer(reference: Inventory) -> None:
    by_eco: dict[str, set[str]] = {}
    for package in reference.packages:
        by_eco.setdefault(package.ecosystem.value, set()).add(package.name)
    assert set(by_eco) == {
        "deb",
        "pypi",
        "npm",
        "golang",
        "cargo",
        "maven",
        "gem",
        "composer",
        "nuget",
    }
    assert reference.distro is not None and reference.distro.version_id == "12"
    # dpkg: installed stanzas only (logrotate is in config-files state)
    assert "logrotate" not in by_eco["deb"] and "libc6" in by_eco["deb"]
    # python-apt is dpkg's python3-apt; six was deleted in a later layer
    assert by_eco["pypi"] == {"requests", "attrs", "packaging"}
    # debug was deleted; yarn.lock lists it again, so it is back, from the lock file
    debug = [p for p in reference.packages if p.name == "debug"]
    assert debug and all(p.path == "app/yarn/yarn.lock" for p in debug)
    assert "commons-cli:commons-cli" in by_eco["maven"]
    assert "stdlib" in by_eco["golang"]
    libc = next(p for p in reference.packages if p.name == "libc6")
    assert libc.layer_created_by.startswith("/bin/sh -c #(nop) COPY dir:")
    assert libc.purl.startswith("pkg:deb/debian/libc6@")
    ms = next(p for p in reference.packages if p.path == "app/node_modules/ms/package.json")
    assert ms.layer_digest == reference.image.layers[2].digest


def test_docker_save_archives_agree(
    reference: Inventory, built: str, testenv: SeawallTestEnv, tmp_path: Path
) -> None:
    archive = tmp_path / "image.tar"
    testenv.docker("save", "-o", str(archive), built)
    assert keys(scan(str(archive))) == keys(reference)
    compressed = tmp_path / "image.tar.gz"
    compressed.write_bytes(gzip.compress(archive.read_bytes(), compresslevel=1))
    assert keys(scan(str(compressed))) == keys(reference)


@pytest.mark.parametrize("which", ["registry", "registry_basic", "registry_token"])
def test_registries_agree(
    which: str,
    reference: Inventory,
    built: str,
    push_image: PushImage,
    request: pytest.FixtureRequest,
) -> None:
    registry: Registry = request.getfixturevalue(which)
    pushed = push_image(built, registry)
    inventory = scan(pushed, username=registry.user or "", password=registry.password or "")
    assert inventory.image.source == "registry"
    assert keys(inventory) == keys(reference)


@pytest.mark.parametrize("which", ["registry_basic", "registry_token"])
def test_wrong_credentials_are_refused(
    which: str, built: str, push_image: PushImage, request: pytest.FixtureRequest
) -> None:
    registry: Registry = request.getfixturevalue(which)
    pushed = push_image(built, registry)
    with pytest.raises(AuthenticationError):
        scan(pushed, username=registry.user or "x", password="wrong-password")
    with pytest.raises(AuthenticationError):
        scan(pushed)


def test_oci_layout_and_archive_agree(
    reference: Inventory, built: str, push_image: PushImage, registry: Registry, tmp_path: Path
) -> None:
    pushed = push_image(built, registry)
    repository, tag = pushed.split("/", 1)[1].rsplit(":", 1)
    layout = pull_to_oci_layout(registry.url, repository, tag, tmp_path / "layout")
    assert keys(scan(str(layout))) == keys(reference)
    archive = tar_directory(layout, tmp_path / "image.oci.tar")
    assert keys(build_image_inventory_forced(str(archive), "oci-archive")) == keys(reference)


def build_image_inventory_forced(target: str, source: str) -> Inventory:
    return build_inventory(target, InventoryOptions(source=source))


def test_cli_reads_the_daemon(built: str, testenv: SeawallTestEnv, tmp_path: Path) -> None:
    out = tmp_path / "sbom.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "seawall",
            "sbom",
            built,
            "--docker-host",
            testenv.docker_host,
            "--format",
            "json",
            "-o",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert '"source": "docker-daemon"' in out.read_text()


def test_unreachable_registry_exits_3(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "seawall", "sbom", "127.0.0.1:9/nothing:1", "--no-cache"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("error: cannot reach registry")


@pytest.mark.parametrize(
    ("os_release", "database", "fixture", "ecosystem", "expected"),
    [
        (
            "alpine-3.19.os-release",
            "lib/apk/db/installed",
            "apk/installed",
            "apk",
            {"musl", "busybox"},
        ),
        (
            "rocky-9.3.os-release",
            "var/lib/rpm/rpmdb.sqlite",
            "rpm/rpmdb.sqlite",
            "rpm",
            {"seawall-demo"},
        ),
        ("rocky-9.3.os-release", "var/lib/rpm/Packages", "rpm/Packages", "rpm", {"seawall-demo"}),
    ],
)
def test_apk_and_rpm_images(
    os_release: str,
    database: str,
    fixture: str,
    ecosystem: str,
    expected: set[str],
    build_image: BuildImage,
    testenv: SeawallTestEnv,
    tmp_path: Path,
) -> None:
    root = tmp_path / "rootfs"
    _put(root, "etc/os-release", f"os_release/{os_release}")
    _put(root, database, fixture)
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY rootfs/ /\n")
    tag = build_image(tmp_path)
    inventory = scan(tag, docker_host=testenv.docker_host)
    names = {p.name for p in inventory.packages if p.ecosystem.value == ecosystem}
    assert expected <= names
    distro = inventory.distro
    assert distro is not None and distro.id == os_release.split("-")[0]
    package = next(p for p in inventory.packages if p.name in expected)
    assert package.purl.startswith(f"pkg:{ecosystem}/")
    assert "distro=" in package.purl


def test_credentials_from_docker_config(
    built: str, push_image: PushImage, registry_basic: Registry, tmp_path: Path
) -> None:
    import base64
    import json

    pushed = push_image(built, registry_basic)
    auth = base64.b64encode(f"{registry_basic.user}:{registry_basic.password}".encode()).decode()
    config = {"auths": {registry_basic.host: {"auth": auth}}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    inventory = scan(pushed, docker_config=str(tmp_path))
    assert inventory.packages


@pytest.mark.parametrize(
    ("platform", "package"), [("linux/amd64", "left-pad"), ("linux/arm64", "right-pad")]
)
def test_registry_index_and_platform(registry: Registry, platform: str, package: str) -> None:
    from seawall.image.manifest import Platform
    from tests.support.imagebuild import Image, Layer
    from tests.support.push import push_index
    from tests.support.sample import OS_RELEASE, npm_package

    images = {
        f"linux/{arch}": Image(
            [
                Layer(
                    {
                        "etc/os-release": OS_RELEASE,
                        f"app/node_modules/{name}/package.json": npm_package(name, "1.0.0"),
                    }
                )
            ],
            architecture=arch,
        )
        for arch, name in (("amd64", "left-pad"), ("arm64", "right-pad"))
    }
    push_index(registry.url, "multi/arch", "v1", images)
    inventory = scan(f"{registry.host}/multi/arch:v1", platform=Platform.parse(platform))
    assert [p.name for p in inventory.packages] == [package]
    assert inventory.image.architecture == platform.split("/")[1]
