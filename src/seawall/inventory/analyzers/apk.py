"""Alpine (and Wolfi/Chainguard) packages from the apk database ``lib/apk/db/installed``.

The database is a list of blank-line separated records of ``X:value`` lines (apk's
"installed database" format): ``P`` name, ``V`` version, ``A`` architecture, ``L`` licence,
``o`` origin (the source package, which Alpine's secdb advisories name), ``F`` a directory
and the ``R`` lines after it the files in that directory. Every package in the file is
installed. The source version is the binary version (apk builds all subpackages of an origin
from one APKBUILD with one version).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from seawall.inventory.analyzer import Analyzer, AnalyzerOutput, MiB, register
from seawall.inventory.analyzers._owned import owned_paths
from seawall.model import Ecosystem, Package

INSTALLED_PATH = "lib/apk/db/installed"


class ApkRecord:
    """The fields of one database record that Seawall uses."""

    __slots__ = ("arch", "files", "license", "name", "origin", "version")

    def __init__(self) -> None:
        self.name = ""
        self.version = ""
        self.arch = ""
        self.license = ""
        self.origin = ""
        self.files: list[str] = []


def iter_records(text: str) -> Iterator[ApkRecord]:
    """Yield the records of an apk installed database; unknown fields are ignored."""
    record = ApkRecord()
    directory = ""
    started = False
    for line in text.splitlines():
        if len(line) < 2 or line[1] != ":":
            if not line.strip() and started:
                yield record
                record, directory, started = ApkRecord(), "", False
            continue
        started = True
        key, value = line[0], line[2:]
        if key == "R":
            record.files.append(f"{directory}/{value}" if directory else value)
        elif key == "F":
            directory = value
        elif key == "P":
            record.name = value
        elif key == "V":
            record.version = value
        elif key == "A":
            record.arch = value
        elif key == "L":
            record.license = value
        elif key == "o":
            record.origin = value
    if started:
        yield record


def parse_installed(path: str, text: str) -> AnalyzerOutput:
    """Packages of an apk installed database, with warnings for records missing P or V."""
    out = AnalyzerOutput()
    for record in iter_records(text):
        if not record.name or not record.version:
            out.warnings.append(f"{path}: record without P: or V: skipped")
            continue
        out.packages.append(
            Package(
                ecosystem=Ecosystem.APK,
                name=record.name,
                version=record.version,
                path=path,
                source_name=record.origin or record.name,
                source_version=record.version,
                arch=record.arch,
                licenses=(record.license,) if record.license else (),
                owned_files=owned_paths(record.files),
            )
        )
    return out


@register
class ApkInstalledAnalyzer(Analyzer):
    """Installed packages from ``lib/apk/db/installed``."""

    name = "apk-installed"
    max_size = 128 * MiB
    paths = frozenset({INSTALLED_PATH})

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        return parse_installed(path, data.read().decode("utf-8", errors="replace"))
