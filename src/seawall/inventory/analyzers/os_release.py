"""The distribution of an image, from ``os-release`` or an older distribution release file.

Every file is analysed on its own; an image usually has several (Ubuntu has ``os-release``,
``lsb-release`` and ``debian_version``; CentOS has ``os-release``, ``centos-release`` and
``redhat-release``; Amazon Linux has ``system-release``). The inventory merge step keeps the
distro from the file with the highest :func:`distro_precedence`, so ``os-release`` wins over
the fallbacks and the more specific release file wins over the generic one.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from seawall.inventory.analyzer import Analyzer, AnalyzerOutput, register
from seawall.model import OSInfo

OS_RELEASE_PATHS = ("etc/os-release", "usr/lib/os-release")

# Higher wins. Distribution-specific release files beat the generic ones they coexist with
# (centos-release over redhat-release; lsb-release over Ubuntu's "bookworm/sid" debian_version).
_PRECEDENCE = {
    "etc/os-release": 100,
    "usr/lib/os-release": 90,
    "etc/alpine-release": 60,
    "etc/centos-release": 60,
    "etc/rocky-release": 60,
    "etc/almalinux-release": 60,
    "etc/oracle-release": 60,
    "etc/fedora-release": 60,
    "etc/SuSE-release": 60,
    "etc/redhat-release": 50,
    "etc/system-release": 45,  # Amazon Linux; a symlink to redhat-release elsewhere
    "etc/lsb-release": 40,
    "etc/debian_version": 30,
}

# Leading words of "<name> release <version> (<codename>)" lines, to os-release IDs.
_RELEASE_NAMES = (
    ("red hat enterprise linux", "rhel"),
    ("centos", "centos"),
    ("rocky linux", "rocky"),
    ("almalinux", "almalinux"),
    ("oracle linux", "ol"),
    ("fedora", "fedora"),
    ("amazon linux", "amzn"),
)

_RED_HAT_LIKE = {"rhel": ("fedora",), "fedora": ()}
_RELEASE_LINE = re.compile(
    r"^(?P<name>[^\n]*?)\s+release\s+(?P<version>[0-9][0-9A-Za-z.]*)(?:[^(\n]*\((?P<code>[^)\n]*)\))?"
)
_SUSE_FIELD = re.compile(r"^\s*(VERSION|PATCHLEVEL|CODENAME)\s*=\s*(\S.*?)\s*$", re.MULTILINE)
_VERSION_CODENAME = re.compile(r"\(([A-Za-z]\w*)\)")
_MAX_TEXT = 64 * 1024
_MAX_LINE = 256  # release lines are short; bounds the regular expression's work


def distro_precedence(path: str) -> int:
    """How much to trust the distro read from ``path``: higher wins, 0 for unknown paths."""
    return _PRECEDENCE.get(path, 0)


def parse_env_file(text: str) -> dict[str, str]:
    """Parse the shell-like ``KEY=value`` lines of os-release and lsb-release.

    Values may be bare, double-quoted (with ``\\`` escapes) or single-quoted, as the
    os-release(5) manual page allows; comments and malformed lines are ignored.
    """
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        key = key.strip()
        if not sep or not key or key.startswith("#"):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            quote, value = value[0], value[1:-1]
            if quote == '"':
                value = re.sub(r"\\(.)", r"\1", value)
        fields[key] = value
    return fields


def _os_release(text: str) -> OSInfo | None:
    fields = parse_env_file(text)
    distro_id = fields.get("ID", "").strip().lower()
    if not distro_id:
        return None
    id_like = tuple(fields.get("ID_LIKE", "").lower().split())
    codename = fields.get("VERSION_CODENAME") or fields.get("UBUNTU_CODENAME") or ""
    if not codename and (distro_id == "debian" or "debian" in id_like):
        # Debian before 9 had no VERSION_CODENAME, only VERSION="8 (jessie)".
        match = _VERSION_CODENAME.search(fields.get("VERSION", ""))
        codename = match.group(1).lower() if match else ""
    return OSInfo(
        id=distro_id,
        version_id=fields.get("VERSION_ID", ""),
        name=fields.get("PRETTY_NAME") or fields.get("NAME", ""),
        codename=codename,
        id_like=id_like,
    )


def _lsb_release(text: str) -> OSInfo | None:
    fields = parse_env_file(text)
    distro_id = fields.get("DISTRIB_ID", "").strip().lower()
    if not distro_id:
        return None
    return OSInfo(
        id=distro_id,
        version_id=fields.get("DISTRIB_RELEASE", ""),
        name=fields.get("DISTRIB_DESCRIPTION", ""),
        codename=fields.get("DISTRIB_CODENAME", ""),
    )


def _release_line(text: str) -> OSInfo | None:
    """``CentOS Linux release 7.9.2009 (Core)`` and the like (Red Hat family)."""
    line = text.strip().split("\n", 1)[0].strip()[:_MAX_LINE]
    match = _RELEASE_LINE.match(line)
    if not match:
        return None
    name = match.group("name").lower()
    distro_id = next((i for prefix, i in _RELEASE_NAMES if name.startswith(prefix)), "")
    if not distro_id:
        return None
    code = match.group("code") or ""
    return OSInfo(
        id=distro_id,
        version_id=match.group("version"),
        name=line,
        codename=code if distro_id != "centos" else "",
        id_like=_RED_HAT_LIKE.get(distro_id, ("rhel", "fedora")),
    )


def _suse_release(text: str) -> OSInfo | None:
    """The pre-os-release ``/etc/SuSE-release`` of SLES 11/12 and openSUSE 13/42."""
    lines = text.strip().splitlines()
    if not lines:
        return None
    fields = dict(_SUSE_FIELD.findall(text))
    version = fields.get("VERSION", "")
    if not version:
        return None
    patch = fields.get("PATCHLEVEL", "0")
    if patch not in ("", "0") and "." not in version:
        version = f"{version}.{patch}"
    first = lines[0].strip()
    lowered = first.lower()
    if lowered.startswith("opensuse"):
        distro_id = "opensuse-leap" if version.startswith("42.") else "opensuse"
    elif "suse linux enterprise" in lowered:
        distro_id = "sles"
    else:
        return None
    return OSInfo(
        id=distro_id,
        version_id=version,
        name=re.sub(r"\s*\([^)]*\)\s*$", "", first),
        codename=fields.get("CODENAME", ""),
        id_like=("suse",),
    )


def _single_version(distro_id: str, text: str) -> OSInfo | None:
    """Files holding just a version: ``alpine-release`` (``3.19.1``), ``debian_version``."""
    version = text.strip().split("\n", 1)[0].strip()
    if not version or len(version) > 64 or any(c.isspace() for c in version):
        return None
    return OSInfo(id=distro_id, version_id=version)


@register
class OSReleaseAnalyzer(Analyzer):
    """Reads the distribution from os-release and the older release files (see module doc)."""

    name = "os-release"
    max_size = _MAX_TEXT
    paths = frozenset(_PRECEDENCE)

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        text = data.read(_MAX_TEXT).decode("utf-8", errors="replace")
        if path in OS_RELEASE_PATHS:
            distro = _os_release(text)
        elif path == "etc/lsb-release":
            distro = _lsb_release(text)
        elif path == "etc/alpine-release":
            distro = _single_version("alpine", text)
        elif path == "etc/debian_version":
            distro = _single_version("debian", text)
        elif path == "etc/SuSE-release":
            distro = _suse_release(text)
        else:
            distro = _release_line(text)
        if distro is None:
            return AnalyzerOutput(warnings=[f"{path}: no distribution found"])
        return AnalyzerOutput(distro=distro)
