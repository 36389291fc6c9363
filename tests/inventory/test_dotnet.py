"""The .deps.json analyzer on a file the .NET SDK wrote (see SOURCES.md)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from seawall.inventory.analyzer import AnalyzerIndex
from seawall.inventory.analyzers.dotnet import DotnetDepsAnalyzer
from seawall.model import Ecosystem, Package

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory" / "dotnet"
PATH = "usr/lib/python3/site-packages/pythonnet/runtime/Python.Runtime.deps.json"


def test_nuget_packages_without_the_project() -> None:
    data = io.BytesIO((FIXTURES / "Python.Runtime.deps.json").read_bytes())
    packages = DotnetDepsAnalyzer().analyze(PATH, data).packages
    # Python.Runtime/3.2.1 is of type "project": the application itself.
    assert packages == [
        Package(ecosystem=Ecosystem.NUGET, name=name, version=version, path=PATH)
        for name, version in [
            ("Microsoft.CSharp", "4.7.0"),
            ("Microsoft.SourceLink.GitHub", "10.0.401"),
            ("System.Buffers", "4.6.1"),
            ("System.IO.Hashing", "10.0.12"),
            ("System.Memory", "4.6.3"),
            ("System.Numerics.Vectors", "4.6.1"),
            ("System.Reflection.Emit", "4.7.0"),
            ("System.Reflection.Emit.ILGeneration", "4.7.0"),
            ("System.Runtime.CompilerServices.Unsafe", "6.1.2"),
        ]
    ]


def test_without_libraries_is_an_error() -> None:
    with pytest.raises(ValueError, match="libraries"):
        DotnetDepsAnalyzer().analyze("a.deps.json", io.BytesIO(b'{"targets": {}}'))


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        (PATH, True),
        ("app/MyApp.deps.json", True),
        ("app/appsettings.json", False),
        ("app/MyApp.runtimeconfig.json", False),
    ],
)
def test_file_selection(path: str, wanted: bool) -> None:
    assert bool(AnalyzerIndex([DotnetDepsAnalyzer()]).candidates(path, executable=False)) is wanted
