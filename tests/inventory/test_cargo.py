"""The Cargo.lock analyzer on a lockfile cargo wrote (see SOURCES.md)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from seawall.inventory.analyzer import AnalyzerIndex
from seawall.inventory.analyzers.cargo import CargoLockAnalyzer
from seawall.model import Ecosystem, Package

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory" / "cargo"


def test_registry_crates_without_the_workspace_member() -> None:
    data = io.BytesIO((FIXTURES / "Cargo.lock").read_bytes())
    packages = CargoLockAnalyzer().analyze("src/app/Cargo.lock", data).packages
    # seawall-fixture 0.1.0 has no source: it is the project itself.
    assert packages == [
        Package(ecosystem=Ecosystem.CARGO, name=name, version=version, path="src/app/Cargo.lock")
        for name, version in [("itoa", "1.0.1"), ("memchr", "2.5.0"), ("ryu", "1.0.2")]
    ]


def test_git_sources_are_kept() -> None:
    lock = (
        b'version = 3\n[[package]]\nname = "foo"\nversion = "0.3.0"\n'
        b'source = "git+https://github.com/example/foo?rev=abc#abc"\n'
    )
    (pkg,) = CargoLockAnalyzer().analyze("Cargo.lock", io.BytesIO(lock)).packages
    assert (pkg.name, pkg.version) == ("foo", "0.3.0")


def test_malformed_toml_is_an_error() -> None:
    with pytest.raises(ValueError):
        CargoLockAnalyzer().analyze("Cargo.lock", io.BytesIO(b"[[package]\nname = 1"))


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("usr/src/app/Cargo.lock", True),
        (
            "root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/ripgrep-14.1.0/Cargo.lock",
            False,
        ),
        ("usr/share/cargo/registry/memchr-2.5.0/Cargo.lock", False),
    ],
)
def test_file_selection(path: str, wanted: bool) -> None:
    assert bool(AnalyzerIndex([CargoLockAnalyzer()]).candidates(path, executable=False)) is wanted
