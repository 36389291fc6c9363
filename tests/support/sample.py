"""A small multi-layer image whose expected inventory is known exactly."""

from __future__ import annotations

from tests.support.imagebuild import Image, Layer

OS_RELEASE = (
    b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
    b'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
)

STATUS_BASE = b"""Package: base-files
Status: install ok installed
Priority: required
Architecture: amd64
Version: 12.4+deb12u5

Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4

"""
STATUS_WITH_REQUESTS = (
    STATUS_BASE
    + b"""Package: python3-requests
Status: install ok installed
Architecture: all
Source: requests
Version: 2.28.1+dfsg-1

"""
)
REQUESTS_EGG = "usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO"
REQUESTS_LIST = f"/.\n/usr\n/{REQUESTS_EGG}\n".encode()
SITE_PACKAGES = "usr/local/lib/python3.11/site-packages"


def metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense: MIT\n\n".encode()


def npm_package(name: str, version: str) -> bytes:
    return f'{{"name": "{name}", "version": "{version}", "license": "MIT"}}'.encode()


def sample_image(compression: str = "gzip") -> Image:
    """Three layers: a Debian base, an apt-get and pip step, then deletions.

    Expected inventory: deb base-files and libc6 (layer 0), python3-requests (layer 1);
    pypi: nothing (requests is owned by dpkg, flask is deleted by a whiteout); npm: left-pad
    (layer 2) but not lodash (hidden by an opaque directory).
    """
    return Image(
        [
            Layer(
                {
                    "etc/os-release": ("symlink", "../usr/lib/os-release"),
                    "usr/lib/os-release": OS_RELEASE,
                    "var/lib/dpkg/status": STATUS_BASE,
                },
                created_by="ADD rootfs.tar /",
                compression=compression,
            ),
            Layer(
                {
                    "var/lib/dpkg/status": STATUS_WITH_REQUESTS,
                    "var/lib/dpkg/info/python3-requests.list": REQUESTS_LIST,
                    REQUESTS_EGG: metadata("requests", "2.28.1"),
                    f"{SITE_PACKAGES}/flask-2.0.0.dist-info/METADATA": metadata("Flask", "2.0.0"),
                    "opt/app/node_modules/lodash/package.json": npm_package("lodash", "4.17.20"),
                },
                created_by="RUN apt-get install -y python3-requests && pip install flask",
                compression=compression,
            ),
            Layer(
                {
                    "usr/local/lib/python3.11/site-packages/.wh.flask-2.0.0.dist-info": b"",
                    "opt/app/node_modules/.wh..wh..opq": b"",
                    "opt/app/node_modules/left-pad/package.json": npm_package("left-pad", "1.3.0"),
                },
                created_by="RUN pip uninstall -y flask && npm ci",
                compression=compression,
            ),
        ]
    )


EXPECTED = {
    ("deb", "base-files", "12.4+deb12u5", 0),
    ("deb", "libc6", "2.36-9+deb12u4", 0),
    ("deb", "python3-requests", "2.28.1+dfsg-1", 1),
    ("npm", "left-pad", "1.3.0", 2),
}
