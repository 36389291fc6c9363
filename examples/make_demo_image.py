"""Rebuild ``examples/demo-image.tar.gz``, the image ``seawall sbom`` is tried on in the README.

A gzip-compressed ``docker save`` archive of three layers made from the real package metadata
files in ``tests/fixtures`` (a Debian base, an application layer with packages of every language
ecosystem, and a clean-up layer whose deletion produces a whiteout). Run from the repository
root: ``.venv/bin/python examples/make_demo_image.py``.
"""

from __future__ import annotations

import lzma
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.imagebuild import Image, Layer, write_docker_archive  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "inventory"
SITE = "usr/local/lib/python3.11/site-packages"


def fixture(relative: str) -> bytes:
    data = (FIXTURES / relative).read_bytes()
    return lzma.decompress(data) if relative.endswith(".xz") else data


def demo_image() -> Image:
    base = Layer(
        {
            "etc/os-release": fixture("os_release/debian-12.os-release"),
            "var/lib/dpkg/status": fixture("dpkg/status"),
        },
        created_by="ADD debian-12-rootfs.tar /",
    )
    app = Layer(
        {
            f"{SITE}/requests-2.32.3.dist-info/METADATA": fixture("python/requests.METADATA"),
            f"{SITE}/six-1.16.0.dist-info/METADATA": fixture("python/six.METADATA"),
            f"{SITE}/attrs-25.4.0.dist-info/METADATA": fixture("python/attrs.METADATA"),
            "app/node_modules/ms/package.json": fixture("npm/package-json/ms.json"),
            "app/node_modules/debug/package.json": fixture("npm/package-json/debug.json"),
            "app/lib/commons-cli.jar": fixture("java/commons-cli.jar"),
            "usr/local/bin/esbuild": fixture("gobinary/esbuild-0.19.11-linux-amd64-sparse.xz"),
            "usr/local/bundle/specifications/rack-2.2.22.gemspec": fixture(
                "gem/rack-2.2.22.gemspec"
            ),
            "app/vendor/composer/installed.json": fixture("composer/installed-v2.json"),
            "app/rust/Cargo.lock": fixture("cargo/Cargo.lock"),
            "app/dotnet/Python.Runtime.deps.json": fixture("dotnet/Python.Runtime.deps.json"),
        },
        created_by="COPY app/ /app/ && pip install -r requirements.txt && npm ci",
    )
    cleanup = Layer(
        {f"{SITE}/.wh.six-1.16.0.dist-info": b""},
        created_by="RUN pip uninstall -y six",
    )
    return Image([base, app, cleanup], tag="seawall/demo:1.0")


if __name__ == "__main__":
    target = ROOT / "examples" / "demo-image.tar.gz"
    write_docker_archive(demo_image(), target, compress=True)
    print(f"wrote {target} ({target.stat().st_size} bytes)")
