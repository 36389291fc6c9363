"""The gemspec and Gemfile.lock analyzers on real files (see SOURCES.md)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from seawall.inventory.analyzer import AnalyzerIndex
from seawall.inventory.analyzers.gem import GemfileLockAnalyzer, GemspecAnalyzer
from seawall.model import Ecosystem, Package

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory" / "gem"
DEBIAN_SPECS = "usr/share/rubygems-integration/all/specifications"


@pytest.mark.parametrize(
    ("fixture", "name", "version"),
    [
        ("rack-2.2.22.gemspec", "rack", "2.2.22"),
        ("rack-test-2.0.2.gemspec", "rack-test", "2.0.2"),
        ("mustermann-3.0.0.gemspec", "mustermann", "3.0.0"),
        ("tilt-2.0.11.gemspec", "tilt", "2.0.11"),
    ],
)
def test_real_gemspecs(fixture: str, name: str, version: str) -> None:
    path = f"{DEBIAN_SPECS}/{fixture}"
    data = io.BytesIO((FIXTURES / fixture).read_bytes())
    assert GemspecAnalyzer().analyze(path, data).packages == [
        Package(ecosystem=Ecosystem.GEM, name=name, version=version, path=path, licenses=("MIT",))
    ]


def test_gemspec_older_rubygems_syntax_and_several_licences() -> None:
    # The shapes older RubyGems (%q{}) and hand-written specs use.
    spec = (
        b"# -*- encoding: utf-8 -*-\nGem::Specification.new do |s|\n"
        b'  s.name = %q{json}\n  s.version = "2.6.3"\n'
        b'  s.licenses = ["Ruby".freeze, "BSD-2-Clause".freeze]\nend\n'
    )
    (pkg,) = (
        GemspecAnalyzer()
        .analyze("specifications/default/json-2.6.3.gemspec", io.BytesIO(spec))
        .packages
    )
    assert (pkg.name, pkg.version, pkg.licenses) == ("json", "2.6.3", ("Ruby", "BSD-2-Clause"))


def test_gemspec_stub_line_is_the_fallback() -> None:
    spec = b"# -*- encoding: utf-8 -*-\n# stub: uri 0.12.1 ruby lib\n"
    (pkg,) = (
        GemspecAnalyzer()
        .analyze("specifications/default/uri-0.12.1.gemspec", io.BytesIO(spec))
        .packages
    )
    assert (pkg.name, pkg.version, pkg.licenses) == ("uri", "0.12.1", ())


def test_gemspec_without_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="name"):
        GemspecAnalyzer().analyze("specifications/x.gemspec", io.BytesIO(b"puts 1\n"))


def test_gemfile_lock_reports_gem_sections_only() -> None:
    data = io.BytesIO((FIXTURES / "warbler.Gemfile.lock").read_bytes())
    packages = GemfileLockAnalyzer().analyze("app/Gemfile.lock", data).packages
    # The PATH section's "demo (1.0)" is the project's own code.
    assert [(p.name, p.version) for p in packages] == [
        ("jruby-jars", "9.2.9.0"),
        ("jruby-rack", "1.1.21"),
        ("rake", "13.0.1"),
        ("rubyzip", "1.3.0"),
        ("warbler", "2.0.5"),
    ]
    assert {(p.ecosystem, p.path) for p in packages} == {(Ecosystem.GEM, "app/Gemfile.lock")}


def test_gemfile_lock_platform_variants_are_one_gem() -> None:
    data = io.BytesIO((FIXTURES / "tapioca.Gemfile.lock").read_bytes())
    packages = GemfileLockAnalyzer().analyze("Gemfile.lock", data).packages
    assert [(p.name, p.version) for p in packages if p.name.startswith("sorbet")] == [
        ("sorbet", "0.5.11725"),
        ("sorbet-runtime", "0.5.11725"),
        ("sorbet-static", "0.5.11725"),
        ("sorbet-static-and-runtime", "0.5.11725"),
    ]
    assert len(packages) == 14
    assert "bundler" not in {p.name for p in packages}  # a dependency line, not a spec


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("usr/local/bundle/specifications/rack-2.2.22.gemspec", True),
        ("var/lib/gems/3.1.0/specifications/rack-2.2.22.gemspec", True),
        ("usr/local/lib/ruby/gems/3.3.0/specifications/default/uri-0.13.0.gemspec", True),
        ("usr/local/bundle/gems/rack-2.2.22/rack.gemspec", False),
        ("usr/share/myspecifications/rack.gemspec", False),
        ("specifications/rack-2.2.22.gemspec", True),
        ("app/Gemfile.lock", True),
        ("usr/local/bundle/gems/rack-2.2.22/Gemfile.lock", False),
    ],
)
def test_file_selection(path: str, wanted: bool) -> None:
    index = AnalyzerIndex([GemspecAnalyzer(), GemfileLockAnalyzer()])
    assert bool(index.candidates(path, executable=False)) is wanted
