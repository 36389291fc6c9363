"""Debian packages: the dpkg status database and the per-package file lists.

* ``var/lib/dpkg/status`` holds one RFC 822-style stanza per package; only configured
  packages count (status word ``installed`` as in ``install ok installed`` or
  ``hold ok installed``, or ``triggers-pending``/``triggers-awaited``), not removed ones that
  left configuration files behind or half-installed ones.
* Distroless images have no ``status`` but one stanza file per package in
  ``var/lib/dpkg/status.d/`` (next to ``<name>.md5sums`` files, ignored), often without a
  ``Status`` field: those are installed.
* ``var/lib/dpkg/info/<name>[:<arch>].list`` names the files each package installed. Each
  becomes an *ownership record*: a DEB :class:`Package` with an empty version, whose
  ``owned_files`` (filtered by :mod:`._owned`) the merge step attaches to the real package
  of that name and architecture. Ownership records are never reported as packages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO

from seawall.inventory.analyzer import Analyzer, AnalyzerOutput, MiB, register
from seawall.inventory.analyzers._owned import owned_paths
from seawall.model import Ecosystem, Package

STATUS_PATH = "var/lib/dpkg/status"
STATUS_DIR = "var/lib/dpkg/status.d"
INFO_DIR = "var/lib/dpkg/info"

# Status words of a fully unpacked and configured package ("triggers-*": configured, with
# trigger processing outstanding). Not: not-installed, config-files, half-installed,
# unpacked, half-configured.
_INSTALLED = frozenset({"installed", "triggers-pending", "triggers-awaited"})
_FIELDS = frozenset({"Package", "Status", "Version", "Architecture", "Source"})
# A large install has about 5,000 packages and Debian ships about 60,000 in all: a status
# file listing more is not real, and would cost gigabytes of package records.
MAX_PACKAGES = 30_000


def iter_stanzas(
    lines: Iterable[str], fields: frozenset[str] = _FIELDS
) -> Iterator[dict[str, str]]:
    """Yield the stanzas of a Debian control file as {field: first-line value}.

    Only ``fields`` are kept (case as written in the file); continuation lines (starting with
    a space or tab) belong to multi-line fields such as Description and are skipped, since no
    kept field spans lines. Stanzas are separated by blank lines; empty stanzas are skipped.
    """
    stanza: dict[str, str] = {}
    for line in lines:
        if not line.strip():
            if stanza:
                yield stanza
                stanza = {}
            continue
        if line[0] in " \t#":
            continue
        key, sep, value = line.partition(":")
        if sep and key in fields:
            stanza[key] = value.strip()
    if stanza:
        yield stanza


def _is_installed(stanza: dict[str, str], default: bool) -> bool:
    status = stanza.get("Status")
    if status is None:
        return default
    words = status.split()
    return len(words) == 3 and words[2] in _INSTALLED


def _source(stanza: dict[str, str], name: str, version: str) -> tuple[str, str]:
    """Source package name and version from ``Source: name`` or ``Source: name (version)``."""
    source = stanza.get("Source", "")
    if not source:
        return name, version
    src_name, _, rest = source.partition(" ")
    rest = rest.strip()
    if rest.startswith("(") and rest.endswith(")") and len(rest) > 2:
        return src_name, rest[1:-1].strip()
    return src_name, version


def parse_status(path: str, lines: Iterable[str], default_installed: bool) -> AnalyzerOutput:
    """Packages of a dpkg status file (``default_installed`` when a stanza has no Status).

    ValueError past :data:`MAX_PACKAGES` packages."""
    out = AnalyzerOutput()
    incomplete = 0
    for stanza in iter_stanzas(lines):
        name = stanza.get("Package", "")
        version = stanza.get("Version", "")
        if not _is_installed(stanza, default_installed):
            continue
        if not name or not version:
            incomplete += 1
            continue
        if len(out.packages) == MAX_PACKAGES:
            raise ValueError(f"more than {MAX_PACKAGES} installed packages; not a status file")
        source_name, source_version = _source(stanza, name, version)
        out.packages.append(
            Package(
                ecosystem=Ecosystem.DEB,
                name=name,
                version=version,
                path=path,
                source_name=source_name,
                source_version=source_version,
                arch=stanza.get("Architecture", ""),
            )
        )
    if incomplete:
        out.warnings.append(f"{path}: {incomplete} stanzas without Package or Version skipped")
    return out


@register
class DpkgStatusAnalyzer(Analyzer):
    """Installed packages from ``var/lib/dpkg/status`` and distroless ``status.d/*``."""

    name = "dpkg-status"
    max_size = 64 * MiB
    paths = frozenset({STATUS_PATH})
    directories = frozenset({STATUS_DIR})

    def accepts(self, path: str) -> bool:
        return not path.endswith(".md5sums")

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        return parse_status(path, _lines(data), default_installed=path != STATUS_PATH)


def _lines(data: BinaryIO, chunk_size: int = 1 << 20) -> Iterator[str]:
    """The decoded lines of ``data``, read a chunk at a time: the whole text split at once
    costs ten times the file in memory."""
    rest = b""
    while chunk := data.read(chunk_size):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            yield line.decode("utf-8", errors="replace")
    if rest:
        yield rest.decode("utf-8", errors="replace")


@register
class DpkgFileListAnalyzer(Analyzer):
    """Ownership records from ``var/lib/dpkg/info/<name>[:<arch>].list`` (see module doc)."""

    name = "dpkg-list"
    max_size = 64 * MiB
    directories = frozenset({INFO_DIR})

    def accepts(self, path: str) -> bool:
        return path.endswith(".list")

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        stem = path.rpartition("/")[2].removesuffix(".list")
        name, _, arch = stem.partition(":")
        if not name:
            raise ValueError(f"{path}: no package name in file name")
        owned = owned_paths(data.read().decode("utf-8", errors="replace").splitlines())
        if not owned:
            return AnalyzerOutput()
        record = Package(
            ecosystem=Ecosystem.DEB, name=name, version="", path=path, arch=arch, owned_files=owned
        )
        return AnalyzerOutput(packages=[record])
