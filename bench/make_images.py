#!/usr/bin/env python3
"""Build the container images that ``bench/sbom_speed.py`` reads, without Docker.

Why: the ``seawall sbom`` speed targets are set against Trivy on a real ~850 MB Debian 12
image with ~264 packages. This script makes such an image from Debian's own packages
(``debootstrap``) and packs it by hand in every format Seawall reads, so the benchmark needs
no Docker daemon and no network once the images exist:

* ``debian12``: one layer, the whole minbase Debian 12 root plus build tools, Python and Java.
* ``multilayer``: that same base layer, then a layer of real ``node_modules`` (``npm ci`` of
  ``bench/npm-app``), a layer of real Python site-packages (``pip install --target`` of
  ``bench/python-requirements.txt``), and a layer that deletes things (whiteouts and an opaque
  directory), so a scanner that ignores whiteouts reports packages that are not there.
* ``wide``: the base layer and a layer of 2,300+ real ``node_modules`` packages (``npm ci`` of
  ``bench/npm-wide``: react-scripts, gatsby and Angular's build tools), for writers and
  matchers at 2,000+ packages.

Each image is written as a docker-save tar (legacy layout: ``manifest.json``,
``<config>.json``, ``<id>/layer.tar``), an OCI image layout directory with gzip (level 6)
layers and an OCI archive (the layout directory as a tar). ``bench/push_registry.py`` pushes
a layout directory to a registry.

The only network used is Debian's package mirror (the one apt on this machine uses), the npm
registry and PyPI. Needs root (``debootstrap``), GNU tar and npm. Everything goes to
``bench/.work/`` (git-ignored); finished steps are kept and skipped on the next run.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
DEFAULT_WORK = BENCH / ".work"
SUITE = "bookworm"
FALLBACK_MIRROR = "http://deb.debian.org/debian"
# Added to debootstrap's minbase (~90 packages) to reach ~264 packages and ~850 MB, the size of
# the image the speed targets were measured on. All real Debian 12 packages; their maintainer
# scripts run in the chroot during debootstrap and need no network.
DEBIAN_PACKAGES = (
    "build-essential",
    "bzip2",
    "ca-certificates",
    "curl",
    "default-jre-headless",
    "file",
    "git",
    "gnupg",
    "iproute2",
    "iputils-ping",
    "jq",
    "less",
    "locales",
    "nano",
    "netbase",
    "openssh-client",
    "patch",
    "procps",
    "python3",
    "python3-dev",
    "python3-pip",
    "python3-venv",
    "sudo",
    "tzdata",
    "unzip",
    "vim-tiny",
    "wget",
    "xz-utils",
    "zstd",
)
# Timestamps in configs and the mtime clamp for layer tars, so reruns give the same bytes
# wherever the inputs are the same.
CREATED = "2025-06-01T00:00:00Z"
EPOCH = 1748736000
GZIP_LEVEL = 6
CHUNK = 1 << 20
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SITE_PACKAGES = "usr/local/lib/python3.11/dist-packages"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def log(msg: str) -> None:
    """Print a progress line with a timestamp (generation takes minutes)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def apt_mirror() -> str:
    """Return the Debian mirror apt on this machine uses for the main archive."""
    candidates = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for src in candidates:
        text = src.read_text(errors="replace")
        for stanza in text.split("\n\n"):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
            if uris and suites and SUITE in suites.group(1).split():
                return uris.group(1).rstrip("/")
    for lst in [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*.list")]:
        if lst.is_file():
            for line in lst.read_text(errors="replace").splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[0] == "deb" and parts[2] == SUITE:
                    return parts[1].rstrip("/")
    return FALLBACK_MIRROR


def run(cmd: list[str], **kw: object) -> None:
    """Run a command, echoing it, and stop the build if it fails."""
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


def key_of(*parts: object) -> str:
    """A short hash of a step's inputs, stored next to its output to decide on reuse."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def fresh(stamp: Path, key: str) -> bool:
    """True if the step whose stamp file is ``stamp`` was last built with inputs ``key``."""
    return stamp.is_file() and stamp.read_text().strip() == key


# --------------------------------------------------------------------------- root filesystems


def build_debian_rootfs(work: Path, mirror: str) -> tuple[Path, str]:
    """debootstrap Debian 12 into ``work/rootfs/debian12``; return it and its debootstrap line."""
    root = work / "rootfs" / "debian12"
    cache = work / "debcache"
    cmd = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(DEBIAN_PACKAGES)}",
        SUITE,
        str(root),
        mirror,
    ]
    created_by = " ".join([*cmd[:3], SUITE, "/", mirror])
    stamp = root.with_name("debian12.stamp")
    key = key_of(cmd)
    if fresh(stamp, key) and root.is_dir():
        log(f"rootfs {root} is up to date")
        return root, created_by
    if root.exists():
        shutil.rmtree(root)
    cache.mkdir(parents=True, exist_ok=True)
    run([*cmd[:3], f"--cache-dir={cache}", *cmd[3:]])
    # What a Dockerfile's `apt-get clean && rm -rf /var/lib/apt/lists/*` leaves out.
    for pattern in (
        "var/cache/apt/archives/*.deb",
        "var/cache/apt/*.bin",
        "var/lib/apt/lists/*_*",
        "tmp/*",
        "var/tmp/*",
    ):
        for p in root.glob(pattern):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
    stamp.write_text(key)
    return root, created_by


def build_npm_tree(work: Path, project: str = "npm-app") -> tuple[Path, str]:
    """``npm ci`` bench/``project`` into a staging root (``app/``); return it and the command."""
    stage = work / "stage" / ("npm" if project == "npm-app" else project)
    app = stage / "app"
    lock = BENCH / project / "package-lock.json"
    manifest = BENCH / project / "package.json"
    created_by = "/bin/sh -c cd /app && npm ci --ignore-scripts --no-audit --no-fund"
    stamp = stage.with_suffix(".stamp")
    key = key_of(manifest.read_text(), lock.read_text())
    if fresh(stamp, key) and app.is_dir():
        log("npm tree is up to date")
        return stage, created_by
    if stage.exists():
        shutil.rmtree(stage)
    app.mkdir(parents=True)
    shutil.copy2(manifest, app / "package.json")
    shutil.copy2(lock, app / "package-lock.json")
    run(
        [
            "npm",
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--legacy-peer-deps",
            "--cache",
            str(work / "npmcache"),
        ],
        cwd=app,
    )
    (app / "server.js").write_text(
        "const express = require('express');\n"
        "const app = express();\n"
        "app.get('/', (req, res) => res.send('ok'));\n"
        "app.listen(3000);\n"
    )
    stamp.write_text(key)
    return stage, created_by


def build_python_tree(work: Path) -> tuple[Path, str]:
    """``pip install --target`` the pinned requirements into a staging root."""
    stage = work / "stage" / "python"
    target = stage / SITE_PACKAGES
    reqs = BENCH / "python-requirements.txt"
    created_by = (
        f"/bin/sh -c pip install --no-compile --target /{SITE_PACKAGES} -r requirements.txt"
    )
    stamp = work / "stage" / "python.stamp"
    key = key_of(reqs.read_text())
    if fresh(stamp, key) and target.is_dir():
        log("python tree is up to date")
        return stage, created_by
    if stage.exists():
        shutil.rmtree(stage)
    target.mkdir(parents=True)
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--platform",
            "manylinux2014_x86_64",
            "--target",
            str(target),
            "-r",
            str(reqs),
        ]
    )
    stamp.write_text(key)
    return stage, created_by


def build_deletion_tree(work: Path, py_stage: Path) -> tuple[Path, str]:
    """A staging root of whiteouts: what ``rm -rf`` in a Dockerfile RUN step leaves in a layer.

    Deletes lodash from node_modules, pandas from site-packages (both package and dist-info)
    and replaces /usr/share/doc by an empty directory (an opaque whiteout). A scanner that
    honours whiteouts reports neither lodash nor pandas.
    """
    stage = work / "stage" / "delete"
    if stage.exists():
        shutil.rmtree(stage)
    site = stage / SITE_PACKAGES
    site.mkdir(parents=True)
    for dist in sorted((py_stage / SITE_PACKAGES).glob("pandas*")):
        (site / f".wh.{dist.name}").touch()
    nm = stage / "app" / "node_modules"
    nm.mkdir(parents=True)
    (nm / ".wh.lodash").touch()
    doc = stage / "usr" / "share" / "doc"
    doc.mkdir(parents=True)
    (doc / ".wh..wh..opq").touch()
    created_by = (
        f"/bin/sh -c rm -rf /app/node_modules/lodash /{SITE_PACKAGES}/pandas* /usr/share/doc/*"
    )
    return stage, created_by


# --------------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class Layer:
    """One built layer: the uncompressed tar, its gzip blob and their digests."""

    tar: Path
    diff_id: str
    size: int
    gz: Path
    gz_digest: str
    gz_size: int
    created_by: str


def build_layer(work: Path, name: str, root: Path, created_by: str, key: str) -> Layer:
    """Tar ``root`` like a container build would, gzip it at level 6, and hash both."""
    out = work / "layers"
    out.mkdir(parents=True, exist_ok=True)
    tar_path, gz_path, meta_path = out / f"{name}.tar", out / f"{name}.tar.gz", out / f"{name}.json"
    if meta_path.is_file() and tar_path.is_file() and gz_path.is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key:
            log(f"layer {name} is up to date")
            meta.pop("key")
            return Layer(tar=tar_path, gz=gz_path, **meta)
    log(f"layer {name}: tar {root}")
    # Entries without a "./" prefix, sorted, numeric owners, PAX, mtimes clamped: as close to
    # what `docker build` writes as GNU tar gets, and reproducible for identical inputs.
    # The contents of /dev, /proc and /sys are never part of an image.
    entries = sorted(os.listdir(root))
    run(
        [
            "tar",
            "--create",
            "--file",
            str(tar_path),
            "--directory",
            str(root),
            "--sort=name",
            "--numeric-owner",
            "--format=posix",
            "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
            f"--mtime=@{EPOCH}",
            "--clamp-mtime",
            "--anchored",
            "--exclude=dev/*",
            "--exclude=proc/*",
            "--exclude=sys/*",
            "--",
            *entries,
        ]
    )
    log(f"layer {name}: gzip -{GZIP_LEVEL}")
    diff = hashlib.sha256()
    size = 0
    with (
        open(tar_path, "rb") as src,
        open(gz_path, "wb") as raw,
        gzip.GzipFile(
            filename="", mode="wb", compresslevel=GZIP_LEVEL, fileobj=raw, mtime=0
        ) as dst,
    ):
        while chunk := src.read(CHUNK):
            diff.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    layer = Layer(
        tar=tar_path,
        diff_id="sha256:" + diff.hexdigest(),
        size=size,
        gz=gz_path,
        gz_digest="sha256:" + file_sha256(gz_path),
        gz_size=gz_path.stat().st_size,
        created_by=created_by,
    )
    meta = {k: v for k, v in layer.__dict__.items() if k not in ("tar", "gz")}
    meta_path.write_text(json.dumps({**meta, "key": key}, indent=1))
    log(f"layer {name}: {size / 1e6:.0f} MB tar, {layer.gz_size / 1e6:.0f} MB gzip")
    return layer


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------------- formats


def image_config(layers: list[Layer], cmd: list[str], workdir: str = "") -> bytes:
    """The image config JSON, with the real diff_ids and one history entry per layer."""
    config: dict[str, object] = {
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": {
            "Env": [PATH_ENV, "LANG=C.UTF-8"],
            "Cmd": cmd,
            **({"WorkingDir": workdir} if workdir else {}),
        },
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [{"created": CREATED, "created_by": layer.created_by} for layer in layers],
    }
    return json.dumps(config, separators=(",", ":")).encode()


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    """Add an in-memory file to a tar with fixed metadata."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), EPOCH, 0o644
    tar.addfile(info, fileobj=io.BytesIO(data))


def add_file(tar: tarfile.TarFile, name: str, path: Path) -> None:
    """Add a file from disk to a tar under ``name`` with fixed metadata."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = path.stat().st_size, EPOCH, 0o644
    with open(path, "rb") as f:
        tar.addfile(info, fileobj=f)


def add_dir(tar: tarfile.TarFile, name: str) -> None:
    """Add a directory entry with fixed metadata."""
    info = tarfile.TarInfo(name)
    info.type, info.mtime, info.mode = tarfile.DIRTYPE, EPOCH, 0o755
    tar.addfile(info)


def write_docker_archive(out: Path, tag: str, layers: list[Layer], config: bytes) -> None:
    """Write what ``docker save`` (before Docker 25) writes: the legacy image tar."""
    log(f"docker-save tar {out}")
    config_hex = hashlib.sha256(config).hexdigest()
    tmp = out.with_suffix(".tmp")
    layer_paths, parent = [], ""
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for layer in layers:
            v1_id = hashlib.sha256(f"{parent} {layer.diff_id}".encode()).hexdigest()
            add_dir(tar, f"{v1_id}/")
            add_bytes(tar, f"{v1_id}/VERSION", b"1.0")
            v1 = {
                "id": v1_id,
                "created": CREATED,
                "container_config": {"Cmd": None},
                **({"parent": parent} if parent else {}),
            }
            add_bytes(tar, f"{v1_id}/json", json.dumps(v1, separators=(",", ":")).encode())
            add_file(tar, f"{v1_id}/layer.tar", layer.tar)
            layer_paths.append(f"{v1_id}/layer.tar")
            parent = v1_id
        add_bytes(tar, f"{config_hex}.json", config)
        repo, _, version = tag.rpartition(":")
        manifest = [{"Config": f"{config_hex}.json", "RepoTags": [tag], "Layers": layer_paths}]
        add_bytes(tar, "manifest.json", json.dumps(manifest, separators=(",", ":")).encode())
        add_bytes(tar, "repositories", json.dumps({repo: {version: parent}}).encode())
    tmp.replace(out)


def write_blob(blobs: Path, data: bytes) -> dict[str, object]:
    """Store bytes as a content-addressed blob; return its digest and size."""
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def write_oci_layout(out: Path, ref_name: str, layers: list[Layer], config: bytes) -> None:
    """Write an OCI image layout directory with gzip layers (hard-linked from the layer cache)."""
    log(f"OCI layout {out}")
    if out.exists():
        shutil.rmtree(out)
    blobs = out / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    (out / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    descriptors = []
    for layer in layers:
        dest = blobs / layer.gz_digest.removeprefix("sha256:")
        if not dest.exists():
            try:
                os.link(layer.gz, dest)
            except OSError:
                shutil.copyfile(layer.gz, dest)
        descriptors.append(
            {"mediaType": MEDIA_LAYER_GZIP, "digest": layer.gz_digest, "size": layer.gz_size}
        )
    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, **write_blob(blobs, config)},
        "layers": descriptors,
    }
    mdesc = write_blob(blobs, json.dumps(manifest, separators=(",", ":")).encode())
    index = {
        "schemaVersion": 2,
        "mediaType": MEDIA_INDEX,
        "manifests": [
            {
                "mediaType": MEDIA_MANIFEST,
                **mdesc,
                "annotations": {"org.opencontainers.image.ref.name": ref_name},
            }
        ],
    }
    (out / "index.json").write_text(json.dumps(index, separators=(",", ":")))


def write_oci_archive(out: Path, layout: Path) -> None:
    """Tar an OCI layout directory (what ``skopeo copy ... oci-archive:`` writes)."""
    log(f"OCI archive {out}")
    tmp = out.with_suffix(".tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in ("oci-layout", "index.json"):
            add_file(tar, name, layout / name)
        add_dir(tar, "blobs/")
        add_dir(tar, "blobs/sha256/")
        for blob in sorted((layout / "blobs" / "sha256").iterdir()):
            add_file(tar, f"blobs/sha256/{blob.name}", blob)
    tmp.replace(out)


def write_image(
    work: Path, name: str, layers: list[Layer], cmd: list[str], workdir: str = ""
) -> dict[str, Any]:
    """Write one image in all three file formats; return a summary for images.json."""
    config = image_config(layers, cmd, workdir)
    images = work / "images"
    images.mkdir(parents=True, exist_ok=True)
    docker_tar = images / f"{name}.docker.tar"
    layout = images / f"{name}.oci"
    archive = images / f"{name}.oci.tar"
    write_docker_archive(docker_tar, f"seawall-bench/{name}:latest", layers, config)
    write_oci_layout(layout, "latest", layers, config)
    write_oci_archive(archive, layout)
    return {
        "name": name,
        "docker_archive": str(docker_tar),
        "oci_layout": str(layout),
        "oci_archive": str(archive),
        "registry_repo": f"seawall-bench/{name}",
        "config_digest": "sha256:" + hashlib.sha256(config).hexdigest(),
        "layers": [
            {
                "diff_id": layer.diff_id,
                "size": layer.size,
                "gzip_digest": layer.gz_digest,
                "gzip_size": layer.gz_size,
                "created_by": layer.created_by,
            }
            for layer in layers
        ],
        "uncompressed_size": sum(layer.size for layer in layers),
        "gzip_size": sum(layer.gz_size for layer in layers),
        "docker_archive_size": docker_tar.stat().st_size,
    }


def count_files(root: Path, pattern: str) -> int:
    """How many paths under ``root`` match a glob (for the summary)."""
    return sum(1 for _ in root.glob(pattern))


def npm_installed_count(app: Path, deleted: str) -> int:
    """Lockfile packages that ``npm ci`` installed (optional ones for other platforms are
    not), less one top-level package a later layer deletes."""
    entries = json.loads((app / "package-lock.json").read_text())["packages"]
    gone = f"node_modules/{deleted}"
    return sum(
        1
        for path in entries
        if path.startswith("node_modules/")
        and path != gone
        and not path.startswith(gone + "/node_modules/")
        and (app / path / "package.json").is_file()
    )


def dpkg_count(root: Path) -> int:
    """Installed packages in a root's dpkg status file."""
    text = (root / "var/lib/dpkg/status").read_text(errors="replace")
    return len(re.findall(r"^Status: install ok installed$", text, re.M))


def main() -> int:
    """Build the root filesystems, layers and images; write images.json."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work-dir", type=Path, default=DEFAULT_WORK)
    ap.add_argument("--mirror", default=None, help="Debian mirror (default: the one apt uses)")
    ap.add_argument("--only", choices=("debian12", "multilayer", "wide"), default=None)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("make_images.py needs root (debootstrap)", file=sys.stderr)
        return 1
    for tool in ("debootstrap", "tar", "npm"):
        if shutil.which(tool) is None:
            print(f"make_images.py needs {tool} (apt-get install {tool})", file=sys.stderr)
            return 1
    work: Path = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    mirror = args.mirror or apt_mirror()
    started = time.monotonic()

    root, deb_created_by = build_debian_rootfs(work, mirror)
    base = build_layer(
        work,
        "debian12-root",
        root,
        deb_created_by,
        key_of((work / "rootfs" / "debian12.stamp").read_text(), EPOCH),
    )
    summary: list[dict[str, Any]] = []
    counts = {"deb": dpkg_count(root)}
    if args.only in (None, "debian12"):
        summary.append({**write_image(work, "debian12", [base], ["bash"]), "expected": counts})
    if args.only in (None, "multilayer"):
        npm_root, npm_by = build_npm_tree(work)
        py_root, py_by = build_python_tree(work)
        del_root, del_by = build_deletion_tree(work, py_root)
        layers = [
            base,
            build_layer(
                work,
                "npm",
                npm_root,
                npm_by,
                key_of((work / "stage" / "npm.stamp").read_text(), EPOCH),
            ),
            build_layer(
                work,
                "python",
                py_root,
                py_by,
                key_of((work / "stage" / "python.stamp").read_text(), EPOCH),
            ),
            build_layer(
                work,
                "delete",
                del_root,
                del_by,
                key_of(sorted(str(p.relative_to(del_root)) for p in del_root.rglob("*")), EPOCH),
            ),
        ]
        expected = {
            **counts,
            "npm": npm_installed_count(npm_root / "app", deleted="lodash"),
            "pypi": count_files(py_root / SITE_PACKAGES, "*.dist-info")
            - count_files(py_root / SITE_PACKAGES, "pandas*.dist-info"),
        }
        summary.append(
            {
                **write_image(work, "multilayer", layers, ["node", "server.js"], "/app"),
                "expected": expected,
            }
        )
    if args.only in (None, "wide"):
        wide_root, wide_by = build_npm_tree(work, "npm-wide")
        stamp = (work / "stage" / "npm-wide.stamp").read_text()
        layers = [base, build_layer(work, "npm-wide", wide_root, wide_by, key_of(stamp, EPOCH))]
        expected = {**counts, "npm": npm_installed_count(wide_root / "app", deleted="")}
        summary.append(
            {**write_image(work, "wide", layers, ["node"], "/app"), "expected": expected}
        )
    index = work / "images.json"
    old = json.loads(index.read_text()) if index.is_file() else []
    merged = {entry["name"]: entry for entry in old} | {entry["name"]: entry for entry in summary}
    index.write_text(json.dumps(list(merged.values()), indent=1))
    log(f"done in {time.monotonic() - started:.0f} s; images listed in {index}")
    for entry in summary:
        log(
            f"{entry['name']}: {entry['uncompressed_size'] / 1e6:.0f} MB uncompressed, "
            f"{entry['gzip_size'] / 1e6:.0f} MB gzip, expected {entry['expected']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
