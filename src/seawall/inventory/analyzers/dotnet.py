""".NET (NuGet) packages from the ``<app>.deps.json`` files the .NET SDK writes next to apps.

The ``libraries`` object has one ``"<Name>/<Version>"`` key per library; those of type
``package`` came from NuGet (``project`` entries are the application's own assemblies,
``reference``/``runtimepack`` ones the framework). Names keep NuGet's casing, which the
GitHub advisories for NuGet use. deps.json records no licences.
"""

from __future__ import annotations

from typing import BinaryIO

from seawall.inventory.analyzer import Analyzer, AnalyzerOutput, register
from seawall.inventory.analyzers._lang import load_json, package, unique
from seawall.model import Ecosystem


@register
class DotnetDepsAnalyzer(Analyzer):
    """NuGet packages of a ``*.deps.json``."""

    name = "dotnet-deps"
    extensions = frozenset({".json"})

    def accepts(self, path: str) -> bool:
        return path.endswith(".deps.json")

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        deps = load_json(data)
        libraries = deps.get("libraries") if isinstance(deps, dict) else None
        if not isinstance(libraries, dict):
            raise ValueError("deps.json without a 'libraries' object")
        found = []
        for key, library in libraries.items():
            if not isinstance(library, dict) or library.get("type") != "package":
                continue
            name, _, version = key.partition("/")
            if name and version:
                found.append(package(Ecosystem.NUGET, name, version, path))
        return AnalyzerOutput(packages=unique(found))
