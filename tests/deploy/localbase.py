"""A Python base image made from this machine's own Python, for building the Dockerfile
without pulling ``python:*-slim`` (no image registry is reachable from the tests).

The image is a root filesystem holding: the interpreter's prefix (stdlib and pip, no other
site-packages, no test suites) at its own path, with ``/usr/local/bin/python{,3}`` links to
it as in the official images; the shared libraries the interpreter and its extension
modules load (found with ``ldd``); busybox as ``/bin/sh`` and the few tools a ``RUN`` line
uses; CA certificates. ``docker import`` turns the tar into an image. It stands in for the
official image only to check that the Dockerfile builds and its result runs: the image
users build comes from ``PYTHON_IMAGE`` (docs/deployment.md).
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

# Libraries the slim image has and wheels load (libpthread, libm, libgcc_s, libstdc++).
DEBIAN_LIBRARIES = ("libc6", "libgcc-s1", "libstdc++6", "zlib1g")
BUSYBOX_TOOLS = ("sh", "mkdir", "ls", "cat", "env", "rm", "id", "true")
_SKIP_DIRS = {"test", "tests", "idlelib", "tkinter", "turtledemo", "__pycache__"}
_LDD_LINE = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x")


def base_prefix() -> Path:
    return Path(sys.base_prefix)


def _shared_libraries(files: list[Path]) -> set[str]:
    libs: set[str] = set()
    for file in files:
        out = subprocess.run(["ldd", str(file)], capture_output=True, text=True, check=False)
        for line in out.stdout.splitlines():
            match = _LDD_LINE.search(line)
            if match:
                libs.add(match.group(1))
    return libs


def _package_libraries(packages: tuple[str, ...]) -> set[str]:
    """The shared objects Debian's ``packages`` install (what the slim image has of them)."""
    libs: set[str] = set()
    for package in packages:
        out = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=False)
        for line in out.stdout.splitlines():
            if ".so" in Path(line).name and "/lib" in line and os.path.isfile(line):
                libs.add(line)
    return libs


def _add_parents(tar: tarfile.TarFile, name: str) -> None:
    """Every missing parent directory of ``name`` as 0755 (an implicit one is not)."""
    made = tar.__dict__.setdefault("_seawall_dirs", set())
    parents = list(Path(name.lstrip("/")).parents)[:-1]
    for parent in reversed(parents):
        if str(parent) not in made and str(parent) not in ("bin", "lib", "lib64", "sbin"):
            _add_dir(tar, str(parent))


def _add_file(tar: tarfile.TarFile, path: str | Path) -> None:
    _add_parents(tar, str(path))
    if Path(path).is_dir() and not Path(path).is_symlink():
        _add_dir(tar, str(path))
        return
    tar.add(path, arcname=str(path).lstrip("/"), recursive=False)


def _add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    made = tar.__dict__.setdefault("_seawall_dirs", set())
    if name.strip("/") in made:
        return
    made.add(name.strip("/"))
    info = tarfile.TarInfo(name.lstrip("/"))
    info.type = tarfile.DIRTYPE
    info.mode = mode
    tar.addfile(info)


def _add_symlink(tar: tarfile.TarFile, name: str, target: str) -> None:
    _add_parents(tar, name)
    info = tarfile.TarInfo(name.lstrip("/"))
    info.type = tarfile.SYMTYPE
    info.linkname = target
    tar.addfile(info)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    _add_parents(tar, name)
    info = tarfile.TarInfo(name.lstrip("/"))
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def _skip(path: Path) -> bool:
    return any(part in _SKIP_DIRS for part in path.parts)


def write_rootfs(dest: Path) -> None:
    """Write the root filesystem tar to ``dest``."""
    prefix = base_prefix()
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    stdlib = Path(sysconfig.get_paths(vars={"base": str(prefix)})["stdlib"])
    executable = prefix / "bin" / version
    if not executable.is_file():
        raise RuntimeError(f"no {executable}: cannot make a base image from this Python")
    ldd_inputs = [
        executable,
        *(so for so in sorted((stdlib / "lib-dynload").glob("*.so")) if "tkinter" not in so.name),
    ]
    site = stdlib / "site-packages"
    with tarfile.open(dest, "w") as tar:
        # merged-/usr layout, as Debian's
        for directory in ("usr", "usr/bin", "usr/lib", "usr/lib64", "usr/local", "etc"):
            _add_dir(tar, directory)
        _add_dir(tar, "usr/local/bin")
        _add_dir(tar, "tmp", 0o1777)
        # 0755, not 0700: this Python lives under /root/.pyenv here and runs as user 10001
        _add_dir(tar, "root", 0o755)
        for link in ("bin", "lib", "lib64", "sbin"):
            _add_symlink(tar, link, f"usr/{link if link != 'sbin' else 'bin'}")
        # the interpreter's prefix
        for path in sorted(prefix.rglob("*")):
            rel = path.relative_to(prefix)
            if _skip(rel) or (path.is_relative_to(site) and path != site):
                continue
            if rel.parts[0] not in ("bin", "lib") or rel.parts[:2] == ("lib", "pkgconfig"):
                continue
            if rel.parts[0] == "bin" and not rel.name.startswith("python"):
                continue
            _add_file(tar, path)
        for pkg in sorted(site.iterdir()):
            if pkg.name.startswith("pip") and not _skip(pkg.relative_to(prefix)):
                for path in sorted([pkg, *pkg.rglob("*")]):
                    if "__pycache__" not in path.parts:
                        _add_file(tar, path)
        for name in ("python", "python3", version):
            _add_symlink(tar, f"usr/local/bin/{name}", str(executable))
        # shared libraries, at their real paths (under /usr), with the paths ldd printed as links
        added: set[str] = set()
        libraries = _shared_libraries(ldd_inputs) | _package_libraries(DEBIAN_LIBRARIES)
        for lib in sorted(libraries):
            if lib.startswith(str(prefix)):
                continue
            real = os.path.realpath(lib)
            if real not in added:
                _add_file(tar, real)
                added.add(real)
            # the path as printed, its directory resolved (/lib -> usr/lib), as a link
            canon = os.path.join(os.path.realpath(os.path.dirname(lib)), Path(lib).name)
            if canon != real and canon not in added:
                _add_symlink(tar, canon, real)
                added.add(canon)
        # a shell and the tools RUN lines use
        _add_bytes(tar, "usr/bin/busybox", Path("/usr/bin/busybox").read_bytes(), 0o755)
        for tool in BUSYBOX_TOOLS:
            _add_symlink(tar, f"usr/bin/{tool}", "busybox")
        certs = Path("/etc/ssl/certs/ca-certificates.crt")
        if certs.is_file():
            _add_bytes(tar, "etc/ssl/certs/ca-certificates.crt", certs.read_bytes())
        _add_bytes(tar, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        _add_bytes(tar, "etc/group", b"root:x:0:\n")


if __name__ == "__main__":  # python tests/deploy/localbase.py OUT.tar
    write_rootfs(Path(sys.argv[1]))
