"""Red Hat family and SUSE packages from the rpm database, in any of its three formats.

The backend is recognised from the file's magic bytes (see :mod:`._rpmdb`), each stored header
is decoded by :mod:`._rpmheader`. ``version`` is ``[epoch:]version-release``; the source
package comes from SOURCERPM (``openssl-3.0.7-24.el9.src.rpm``) and carries the binary's epoch,
since rpm does not record the source epoch and they are the same in practice. The
``gpg-pubkey`` pseudo-packages (imported signing keys) are skipped.
"""

from __future__ import annotations

from typing import BinaryIO

from seawall.inventory.analyzer import Analyzer, AnalyzerOutput, MiB, register
from seawall.inventory.analyzers._owned import owned_paths
from seawall.inventory.analyzers._rpmdb import BACKENDS, detect
from seawall.inventory.analyzers._rpmheader import RpmHeader, parse_header, split_source_rpm
from seawall.model import Ecosystem, Package

_DIRS = ("var/lib/rpm", "usr/lib/sysimage/rpm")
_NAMES = ("rpmdb.sqlite", "Packages", "Packages.db")
RPMDB_PATHS = frozenset(f"{d}/{n}" for d in _DIRS for n in _NAMES)
_MAX_WARNINGS = 50  # a corrupt database can produce one per page or slot


def header_package(path: str, header: RpmHeader) -> Package | None:
    """The Package of one decoded header, or None for gpg-pubkey and nameless headers."""
    if not header.name or not header.version or header.name == "gpg-pubkey":
        return None
    source_name, source_version = split_source_rpm(header.source_rpm)
    if source_name and header.epoch is not None:
        source_version = f"{header.epoch}:{source_version}"
    return Package(
        ecosystem=Ecosystem.RPM,
        name=header.name,
        version=header.evr,
        path=path,
        source_name=source_name or header.name,
        source_version=source_version if source_name else header.evr,
        arch=header.arch,
        licenses=(header.license,) if header.license else (),
        owned_files=owned_paths(header.files()),
    )


@register
class RpmDatabaseAnalyzer(Analyzer):
    """Installed packages from ``var/lib/rpm`` or ``usr/lib/sysimage/rpm`` databases."""

    name = "rpmdb"
    max_size = 1024 * MiB
    paths = RPMDB_PATHS

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        out = AnalyzerOutput()
        problems: list[str] = []
        for index, blob in enumerate(BACKENDS[detect(data)](data, problems)):
            try:
                package = header_package(path, parse_header(blob))
            except ValueError as exc:
                out.warnings.append(f"{path}: header {index}: {exc}")
                continue
            if package is not None:
                out.packages.append(package)
        out.warnings.extend(f"{path}: {problem}" for problem in problems)
        if len(out.warnings) > _MAX_WARNINGS:
            more = len(out.warnings) - _MAX_WARNINGS
            out.warnings[_MAX_WARNINGS:] = [f"{path}: {more} more problems not listed"]
        return out
