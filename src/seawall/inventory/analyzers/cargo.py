"""Rust crates from ``Cargo.lock``.

Every ``[[package]]`` table names a crate and its version. Only packages with a ``source``
(``registry+...``, ``sparse+...``, ``git+...``) are reported: packages without one are the
workspace's own members and path dependencies, i.e. the application being scanned rather
than a dependency that advisories could be written against. All lockfile versions (1 to 4)
share this table layout; the old ``[metadata]`` checksum table of version 1 is ignored.
Lockfiles inside unpacked crate sources (``.cargo/registry/src/...``,
``usr/share/cargo/registry/...``) describe those crates' own builds and are ignored.
"""

from __future__ import annotations

import tomllib
from typing import BinaryIO

from seawall.inventory.analyzer import Analyzer, AnalyzerOutput, MiB, register
from seawall.inventory.analyzers._lang import package, text, unique
from seawall.model import Ecosystem


@register
class CargoLockAnalyzer(Analyzer):
    """Crates with a source in a ``Cargo.lock``."""

    name = "cargo-lock"
    # tomllib is pure Python: keep inputs to sizes real lockfiles have (a few MiB at most).
    max_size = 8 * MiB
    basenames = frozenset({"Cargo.lock"})

    def accepts(self, path: str) -> bool:
        # Crate sources unpacked by cargo or Debian (cargo/registry/...) ship their own locks.
        return "cargo/registry/" not in path

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        lock = tomllib.loads(data.read().decode("utf-8"))
        tables = lock.get("package", [])
        if not isinstance(tables, list):
            raise ValueError("Cargo.lock 'package' is not an array of tables")
        found = []
        for table in tables:
            if not isinstance(table, dict) or not text(table.get("source")):
                continue
            name, version = text(table.get("name")), text(table.get("version"))
            if name and version:
                found.append(package(Ecosystem.CARGO, name, version, path))
        return AnalyzerOutput(packages=unique(found))
