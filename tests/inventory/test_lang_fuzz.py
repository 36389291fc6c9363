"""Property tests for the language-package analyzers: arbitrary bytes and mutated real files.

Whatever they are given, the analyzers must return well-formed packages or raise an ordinary
Exception (the layer reader turns it into a warning), and must do so quickly: hypothesis'
deadline fails any example that takes longer than a second.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.inventory.analyzer import Analyzer
from seawall.inventory.analyzers.cargo import CargoLockAnalyzer
from seawall.inventory.analyzers.composer import ComposerAnalyzer
from seawall.inventory.analyzers.dotnet import DotnetDepsAnalyzer
from seawall.inventory.analyzers.gem import GemfileLockAnalyzer, GemspecAnalyzer
from seawall.inventory.analyzers.npm import (
    NpmLockAnalyzer,
    NpmPackageJsonAnalyzer,
    PnpmLockAnalyzer,
    YarnLockAnalyzer,
)
from seawall.inventory.analyzers.python import PythonMetadataAnalyzer
from seawall.model import Package
from seawall.safety.yaml import MAX_DEPTH, load_yaml

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory"

# (analyzer, image path it is called with, fixtures it is mutated from)
CASES: list[tuple[Analyzer, str, list[str]]] = [
    (
        PythonMetadataAnalyzer(),
        "x-1.0.dist-info/METADATA",
        ["python/attrs.METADATA", "python/docutils.METADATA", "python/wsgiref.egg-info"],
    ),
    (
        NpmPackageJsonAnalyzer(),
        "node_modules/x/package.json",
        ["npm/package-json/json-schema.json", "npm/package-json/types-ms.json"],
    ),
    (
        NpmLockAnalyzer(),
        "package-lock.json",
        ["npm/package-lock-v1.json", "npm/package-lock-v3-alias.json"],
    ),
    (YarnLockAnalyzer(), "yarn.lock", ["npm/yarn-v1-alias.lock", "npm/yarn-berry-alias.lock"]),
    (
        PnpmLockAnalyzer(),
        "pnpm-lock.yaml",
        ["npm/pnpm-lock-v5.yaml", "npm/pnpm-lock-v6.yaml", "npm/pnpm-lock-v9-peers.yaml"],
    ),
    (GemspecAnalyzer(), "specifications/rack-2.2.22.gemspec", ["gem/rack-2.2.22.gemspec"]),
    (GemfileLockAnalyzer(), "Gemfile.lock", ["gem/tapioca.Gemfile.lock"]),
    (CargoLockAnalyzer(), "Cargo.lock", ["cargo/Cargo.lock"]),
    (
        ComposerAnalyzer(),
        "composer.lock",
        ["composer/composer.lock", "composer/installed-v1.json", "composer/installed-v2.json"],
    ),
    (DotnetDepsAnalyzer(), "a.deps.json", ["dotnet/Python.Runtime.deps.json"]),
]
IDS = [case[0].name for case in CASES]
# Bytes that matter to the parsers, so that mutations hit structure rather than only text.
STRUCTURAL = list(b"\n\r\t :\"'{}[],@/()#-*&!<>|\\=\x00\xff")


def check(analyzer: Analyzer, path: str, data: bytes) -> None:
    """Run the analyzer; only ordinary exceptions may escape, and output must be well-formed."""
    try:
        out = analyzer.analyze(path, io.BytesIO(data))
    except Exception:
        return
    for package in out.packages:
        assert isinstance(package, Package)
        assert isinstance(package.name, str) and package.name
        assert isinstance(package.version, str) and package.version
        assert package.path == path
        assert all(isinstance(lic, str) for lic in package.licenses)


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """The original with a few random edits: replaced bytes, deletions, duplications, cuts."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["byte", "structural", "delete", "duplicate", "truncate"]))
        if kind == "byte":
            data[at] = draw(st.integers(0, 255))
        elif kind == "structural":
            data[at] = draw(st.sampled_from(STRUCTURAL))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 256))]
        else:
            del data[at:]
    return bytes(data)


@pytest.mark.parametrize(("analyzer", "path", "fixtures"), CASES, ids=IDS)
@settings(max_examples=150, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes(analyzer: Analyzer, path: str, fixtures: list[str], data: bytes) -> None:
    check(analyzer, path, data)


@pytest.mark.parametrize(("analyzer", "path", "fixtures"), CASES, ids=IDS)
@settings(max_examples=150, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(draw=st.data())
def test_mutated_real_files(
    analyzer: Analyzer, path: str, fixtures: list[str], draw: st.DataObject
) -> None:
    original = (FIXTURES / draw.draw(st.sampled_from(fixtures))).read_bytes()
    check(analyzer, path, draw.draw(mutated(original)))


@pytest.mark.parametrize(
    "document",
    [
        b"packages: " + b"[" * 200_000 + b"]" * 200_000,  # crashes PyYAML's own C composer
        b"- " * 200_000 + b"x",
        b"{a: " * 200_000 + b"1" + b"}" * 200_000,
    ],
    ids=["flow-sequences", "block-sequences", "flow-mappings"],
)
def test_deep_yaml_is_refused_without_recursion(document: bytes) -> None:
    with pytest.raises(ValueError, match=f"deeper than {MAX_DEPTH}"):
        load_yaml(document, strings=True)


@pytest.mark.parametrize(
    ("analyzer", "path", "document"),
    [
        (GemspecAnalyzer(), "specifications/x.gemspec", b"\n" * 4_000_000),
        (GemspecAnalyzer(), "specifications/x.gemspec", b'  s.licenses = ["a", ' * 200_000),
        (PythonMetadataAnalyzer(), "x.dist-info/METADATA", b"Name: x" + b"y" * 8_000_000),
        (PythonMetadataAnalyzer(), "x.dist-info/METADATA", b"Classifier: a\n" * 2_000_000),
        (YarnLockAnalyzer(), "yarn.lock", b'"a@1", ' * 1_000_000 + b":\n  version 1\n"),
        (GemfileLockAnalyzer(), "Gemfile.lock", b"GEM\n" + b"    a (1" * 1_000_000),
        (NpmLockAnalyzer(), "package-lock.json", b'{"dependencies":' * 100_000),
    ],
    ids=[
        "gemspec-newlines",
        "gemspec-open-list",
        "metadata-long-line",
        "metadata-many-fields",
        "yarn-long-key",
        "gemfile-unclosed",
        "package-lock-deep",
    ],
)
def test_big_hostile_inputs_stay_fast(analyzer: Analyzer, path: str, document: bytes) -> None:
    start = time.monotonic()
    check(analyzer, path, document)
    assert time.monotonic() - start < 5
