"""The dpkg analyzers on real status, distroless status.d and .list files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.inventory.analyzer import AnalyzerIndex
from seawall.inventory.analyzers._owned import keep_owned, owned_paths
from seawall.inventory.analyzers.dpkg import (
    DpkgFileListAnalyzer,
    DpkgStatusAnalyzer,
    iter_stanzas,
)
from seawall.model import Ecosystem, Package

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory" / "dpkg"
STATUS = (FIXTURES / "status").read_bytes()


def by_name(packages: list[Package]) -> dict[str, Package]:
    return {p.name: p for p in packages}


def test_status_packages() -> None:
    out = DpkgStatusAnalyzer().analyze("var/lib/dpkg/status", io.BytesIO(STATUS))
    assert out.warnings == []
    packages = by_name(out.packages)
    # 15 stanzas; logrotate was removed leaving its conffiles ("deinstall ok config-files").
    assert len(out.packages) == 14
    assert "logrotate" not in packages
    assert packages["libc6"] == Package(
        ecosystem=Ecosystem.DEB,
        name="libc6",
        version="2.36-9+deb12u14",
        path="var/lib/dpkg/status",
        source_name="glibc",
        source_version="2.36-9+deb12u14",
        arch="amd64",
    )
    # binNMU: "Source: bash (5.2.15-2)" names a source version different from the binary's.
    assert (packages["bash"].version, packages["bash"].source_name) == ("5.2.15-2+b8", "bash")
    assert packages["bash"].source_version == "5.2.15-2"
    # No Source field: the source package is the binary package itself.
    assert (packages["coreutils"].source_name, packages["coreutils"].source_version) == (
        "coreutils",
        "9.1-1",
    )
    assert packages["zlib1g"].version == "1:1.2.13.dfsg-1"
    assert packages["zlib1g"].source_name == "zlib"
    assert packages["tzdata"].arch == "all"
    assert packages["libssl3"].source_name == "openssl"
    assert all(p.licenses == () and p.purl == "" for p in out.packages)


def test_distroless_status_d() -> None:
    analyzer = DpkgStatusAnalyzer()
    index = AnalyzerIndex([analyzer])
    found: list[Package] = []
    for file in sorted((FIXTURES / "status.d").iterdir()):
        path = f"var/lib/dpkg/status.d/{file.name}"
        if not index.candidates(path, False):
            assert file.name.endswith(".md5sums")
            continue
        found.extend(analyzer.analyze(path, io.BytesIO(file.read_bytes())).packages)
    assert [(p.name, p.version, p.source_name, p.arch, p.path) for p in found] == [
        ("base-files", "12.4+deb12u15", "base-files", "amd64", "var/lib/dpkg/status.d/base-files"),
        ("libssl3", "3.0.22-1~deb12u2", "openssl", "amd64", "var/lib/dpkg/status.d/libssl3"),
        ("netbase", "6.4", "netbase", "all", "var/lib/dpkg/status.d/netbase"),
    ]


def test_index_selection() -> None:
    index = AnalyzerIndex([DpkgStatusAnalyzer(), DpkgFileListAnalyzer()])

    def names(path: str) -> list[str]:
        return [a.name for a in index.candidates(path, False)]

    assert names("var/lib/dpkg/status") == ["dpkg-status"]
    assert names("var/lib/dpkg/status.d/libssl3") == ["dpkg-status"]
    assert names("var/lib/dpkg/status.d/libssl3.md5sums") == []
    assert names("var/lib/dpkg/status-old") == []
    assert names("var/lib/dpkg/info/python3-apt.list") == ["dpkg-list"]
    assert names("var/lib/dpkg/info/python3-apt.md5sums") == []


def list_record(name: str) -> list[Package]:
    data = (FIXTURES / "info" / name).read_bytes()
    return DpkgFileListAnalyzer().analyze(f"var/lib/dpkg/info/{name}", io.BytesIO(data)).packages


def test_list_files_give_ownership_records() -> None:
    [apt] = list_record("python3-apt.list")
    assert (apt.ecosystem, apt.name, apt.version, apt.arch) == (
        Ecosystem.DEB,
        "python3-apt",
        "",
        "",
    )
    assert apt.path == "var/lib/dpkg/info/python3-apt.list"
    assert apt.owned_files == (
        "usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info",
        "usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info/PKG-INFO",
        "usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info/dependency_links.txt",
        "usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info/top_level.txt",
    )
    [jar] = list_record("libcommons-io-java.list")
    assert jar.owned_files == (
        "usr/share/java/commons-io.jar",
        "usr/share/java/commons-io-2.11.0.jar",
        "usr/share/maven-repo/commons-io/commons-io/2.11.0/commons-io-2.11.0.jar",
        "usr/share/maven-repo/commons-io/commons-io/debian/commons-io-debian.jar",
    )
    [coreutils] = list_record("coreutils.list")
    # dpkg records the unmerged paths (bin/ls) even on a merged-/usr system.
    assert "bin/ls" in coreutils.owned_files
    assert "usr/bin/wc" in coreutils.owned_files
    assert "usr/share/man/man1/ls.1.gz" not in coreutils.owned_files
    assert all(p.startswith(("bin/", "usr/bin/", "usr/sbin/")) for p in coreutils.owned_files)


def test_list_without_kept_files_and_arch_qualifier() -> None:
    # libssl3 owns only shared libraries and docs: nothing a language analyzer reports.
    assert list_record("libssl3:amd64.list") == []
    out = DpkgFileListAnalyzer().analyze(
        "var/lib/dpkg/info/libfoo:arm64.list", io.BytesIO(b"/.\n/usr/bin/foo\n")
    )
    assert [(p.name, p.arch, p.owned_files) for p in out.packages] == [
        ("libfoo", "arm64", ("usr/bin/foo",))
    ]


def test_stanza_parser_keeps_first_value_lines_only() -> None:
    text = "Package: a\nDescription: x\n more\n .\nVersion: 1\n\n\n\nPackage: b\nVersion: 2"
    assert list(iter_stanzas(text.splitlines())) == [
        {"Package": "a", "Version": "1"},
        {"Package": "b", "Version": "2"},
    ]


@settings(max_examples=300, deadline=1000)
@given(st.text(alphabet=st.sampled_from(list("PackgeStuVrion: ()\n\t#ab1-+~")), max_size=400))
def test_stanza_text_never_crashes(text: str) -> None:
    for default in (True, False):
        out = DpkgStatusAnalyzer().analyze(
            "var/lib/dpkg/status" if default else "var/lib/dpkg/status.d/x",
            io.BytesIO(text.encode()),
        )
        assert all(p.name and p.version for p in out.packages)


@settings(max_examples=200, deadline=1000)
@given(st.data())
def test_mutated_status_never_crashes(data: st.DataObject) -> None:
    blob = bytearray(STATUS[:4000])
    for _ in range(data.draw(st.integers(0, 20))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    out = DpkgStatusAnalyzer().analyze("var/lib/dpkg/status", io.BytesIO(bytes(blob)))
    assert len(out.packages) <= 5
    DpkgFileListAnalyzer().analyze("var/lib/dpkg/info/x.list", io.BytesIO(bytes(blob)))


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("usr/lib/python3/dist-packages/x-1.0.dist-info/METADATA", True),
        ("usr/lib/python3/dist-packages/x-1.0.egg-info", True),
        ("usr/lib/python3/dist-packages/x.dist-infox", False),
        ("usr/lib/node_modules/npm/node_modules/abbrev/package.json", True),
        ("usr/share/nodejs/acorn/package.json", True),
        ("usr/share/doc/foo/package.json", False),
        ("usr/share/java/guava.jar", True),
        ("usr/share/rubygems-integration/all/specifications/rake-13.0.6.gemspec", True),
        ("usr/share/php/vendor/composer/installed.json", True),
        ("usr/bin/containerd", True),
        ("sbin/ldconfig", True),
        ("usr/bin/subdir/tool", False),
        ("usr/lib/x86_64-linux-gnu/libssl.so.3", False),
        ("usr/share/man/man1/ls.1.gz", False),
    ],
)
def test_owned_filter(path: str, kept: bool) -> None:
    assert keep_owned(path) is kept
    assert owned_paths([f"/{path}", f"/{path}"]) == ((path,) if kept else ())
