"""The Java archive analyzer on real jars from Debian and jars built with the JDK's jar tool.

See fixtures/inventory/java/SOURCES.md (and build.sh) for where each archive comes from.
Zip bombs and deep nesting are built at test time with ``zipfile`` from the real jars.
"""

from __future__ import annotations

import contextlib
import io
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seawall.inventory.analyzer import AnalyzerIndex
from seawall.inventory.analyzers import java
from seawall.inventory.analyzers.java import (
    JavaArchiveAnalyzer,
    manifest_licenses,
    parse_manifest,
    parse_properties,
    split_file_name,
)
from seawall.model import Ecosystem, Package

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory" / "java"
APACHE = ("Apache-2.0",)


def run(blob: bytes, path: str) -> java.AnalyzerOutput:
    return JavaArchiveAnalyzer().analyze(path, io.BytesIO(blob))


def found(fixture: str, path: str | None = None) -> list[tuple[str, str, str, tuple[str, ...]]]:
    output = run((FIXTURES / fixture).read_bytes(), path or f"opt/app/{fixture}")
    assert output.warnings == []
    assert {p.ecosystem for p in output.packages} <= {Ecosystem.MAVEN}
    return [(p.path, p.name, p.version, p.licenses) for p in output.packages]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        # Debian jars: pom.properties; pom.properties of the jar and of a shaded dependency
        # (the Debian file name differs from the artifactId); manifest only (no vendor id, so
        # a bare artifactId, licence from a Bundle-License URL); manifest Bundle-Version over
        # the file name; file name only.
        ("commons-cli.jar", [("commons-cli:commons-cli", "1.5.0", ())]),
        (
            "maven3-slf4j-provider.jar",
            [
                ("org.apache.maven:maven-slf4j-provider", "3.8.7", ()),
                ("org.slf4j:slf4j-simple", "1.7.32", ()),
            ],
        ),
        ("guice-jndi.jar", [("guice-jndi", "4.2.3", APACHE)]),
        ("atinject-jsr330-api-1.0.jar", [("atinject-jsr330-api", "1.0.0", ())]),
        ("aopalliance-1.0.jar", [("aopalliance", "1.0", ())]),
        # Built with jar: Maven layout with an SPDX Bundle-License; a shaded jar holding only
        # cglib's pom.properties, whose manifest names the jar itself.
        ("hello-lib-1.0.0.jar", [("com.example:hello-lib", "1.0.0", APACHE)]),
        ("shaded-tool-3.0.jar", [("shaded-tool", "3.0", APACHE), ("cglib:cglib", "3.2.12", ())]),
    ],
)
def test_single_archives(
    fixture: str, expected: list[tuple[str, str, str, tuple[str, ...]]]
) -> None:
    path = f"usr/share/java/{fixture}"
    assert found(fixture, path) == [(path, *e) for e in expected]


def test_war_with_libraries() -> None:
    assert found("webapp.war", "srv/webapp.war") == [
        ("srv/webapp.war", "com.example:webapp", "2.0.0", ()),
        ("srv/webapp.war!/WEB-INF/lib/aopalliance-1.0.jar", "aopalliance", "1.0", ()),
        ("srv/webapp.war!/WEB-INF/lib/commons-cli.jar", "commons-cli:commons-cli", "1.5.0", ()),
        (
            "srv/webapp.war!/WEB-INF/lib/hello-lib-1.0.0.jar",
            "com.example:hello-lib",
            "1.0.0",
            APACHE,
        ),
    ]


def test_ear_two_levels_deep() -> None:
    assert found("app.ear", "app.ear") == [
        ("app.ear!/lib/guice-jndi.jar", "guice-jndi", "4.2.3", APACHE),
        ("app.ear!/webapp.war", "com.example:webapp", "2.0.0", ()),
        ("app.ear!/webapp.war!/WEB-INF/lib/aopalliance-1.0.jar", "aopalliance", "1.0", ()),
        (
            "app.ear!/webapp.war!/WEB-INF/lib/commons-cli.jar",
            "commons-cli:commons-cli",
            "1.5.0",
            (),
        ),
        (
            "app.ear!/webapp.war!/WEB-INF/lib/hello-lib-1.0.0.jar",
            "com.example:hello-lib",
            "1.0.0",
            APACHE,
        ),
    ]


def test_spring_boot_jar_with_stored_libraries() -> None:
    inner = "app.jar!/BOOT-INF/lib/maven3-slf4j-provider.jar"
    assert found("boot-app-0.1.0.jar", "app.jar") == [
        ("app.jar", "boot-app", "0.1.0", ()),
        (inner, "org.apache.maven:maven-slf4j-provider", "3.8.7", ()),
        (inner, "org.slf4j:slf4j-simple", "1.7.32", ()),
    ]


def test_large_nested_archive_spools(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nested archives above the in-memory limit go through a spooled temporary file."""
    monkeypatch.setattr(java, "_IN_MEMORY", 1024)
    assert [n for _, n, _, _ in found("webapp.war")][2] == "commons-cli:commons-cli"


def test_package_fields() -> None:
    (package,) = run((FIXTURES / "hello-lib-1.0.0.jar").read_bytes(), "lib/x.jar").packages
    assert package == Package(
        ecosystem=Ecosystem.MAVEN,
        name="com.example:hello-lib",
        version="1.0.0",
        path="lib/x.jar",
        licenses=APACHE,
    )


def test_extensions_are_case_insensitive() -> None:
    index = AnalyzerIndex([JavaArchiveAnalyzer()])
    for path in [
        "opt/App.JAR",
        "srv/x.war",
        "x.ear",
        "var/jenkins/plugins/git.hpi",
        "a.jpi",
        "b.Par",
        "c.sar",
    ]:
        assert [a.name for a in index.candidates(path, False)] == ["java-archive"], path
    assert index.candidates("usr/share/java/readme.txt", False) == []


def zip_of(members: dict[str, bytes], stored: bool = False) -> bytes:
    out = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return out.getvalue()


def test_nested_zip_bomb_is_skipped() -> None:
    bomb = zip_of({"WEB-INF/lib/bomb.jar": b"\0" * (64 * 1024 * 1024)})
    assert len(bomb) < 200_000
    output = run(bomb, "bomb.war")
    assert output.packages == []
    assert output.warnings == ["bomb.war!/WEB-INF/lib/bomb.jar: implausible size or ratio, skipped"]


def test_oversized_pom_properties_are_skipped() -> None:
    props = b"groupId=g\nartifactId=a\nversion=1\n" + b"#" * (2 * 1024 * 1024)
    blob = zip_of({"META-INF/maven/g/a/pom.properties": props})
    assert run(blob, "a-9.jar").packages[0].name == "a"  # file-name fallback instead


@pytest.mark.parametrize("depth", [4, 5])
def test_depth_limit(depth: int) -> None:
    """The real jar wrapped in jars (without versions, so they report nothing themselves)."""
    blob = (FIXTURES / "hello-lib-1.0.0.jar").read_bytes()
    blob = zip_of({"lib/hello-lib-1.0.0.jar": blob})
    for _ in range(depth - 1):
        blob = zip_of({"lib/wrap.jar": blob}, stored=True)
    output = run(blob, "top.jar")
    inner = "top.jar" + "!/lib/wrap.jar" * (depth - 1) + "!/lib/hello-lib-1.0.0.jar"
    if depth <= java.MAX_DEPTH:
        assert [(p.path, p.name) for p in output.packages] == [(inner, "com.example:hello-lib")]
        assert output.warnings == []
    else:
        assert output.packages == []
        assert output.warnings == [f"{inner}: archives nested too deep, skipped"]


def test_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(java, "_BUDGET", 12_000)  # room for the first library only
    output = run((FIXTURES / "webapp.war").read_bytes(), "w.war")
    assert [p.path for p in output.packages] == ["w.war", "w.war!/WEB-INF/lib/aopalliance-1.0.jar"]
    assert len(output.warnings) == 2
    assert all("budget exhausted" in w for w in output.warnings)


def test_huge_central_directory_is_refused() -> None:
    blob = bytearray((FIXTURES / "commons-cli.jar").read_bytes())
    end = blob.rfind(b"PK\x05\x06")
    struct.pack_into("<I", blob, end + 12, 0x7FFFFFF0)
    with pytest.raises(ValueError, match="central directory too large"):
        run(bytes(blob), "x.jar")


def test_not_a_zip() -> None:
    with pytest.raises(ValueError):
        run(b"definitely not a zip file", "x.jar")


def test_broken_nested_archive_is_a_warning() -> None:
    blob = zip_of({"lib/broken.jar": b"PK\x03\x04 not really"})
    output = run(blob, "outer.jar")
    assert output.packages == []
    assert output.warnings[0].startswith("outer.jar!/lib/broken.jar: unreadable nested archive")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("commons-lang3-3.12.0.jar", ("commons-lang3", "3.12.0")),
        ("guava-31.1-jre.jar", ("guava", "31.1-jre")),
        ("jsr305-0.1~+svn49.jar", ("jsr305", "0.1~+svn49")),
        ("a.war!/WEB-INF/lib/spring-core-5.3.20.RELEASE.jar", ("spring-core", "5.3.20.RELEASE")),
        ("usr/share/java/guice.jar", ("guice", "")),
    ],
)
def test_split_file_name(name: str, expected: tuple[str, str]) -> None:
    assert split_file_name(name) == expected


def test_parse_properties() -> None:
    text = (
        "#Generated by Maven\n! comment\nversion = 1.0\ngroupId:org.x\nartifactId lib\\\n  -core\n"
    )
    assert parse_properties(text) == {
        "version": "1.0",
        "groupId": "org.x",
        "artifactId": "lib-core",
    }


def test_parse_manifest_joins_continuations() -> None:
    text = (
        "Manifest-Version: 1.0\r\nBundle-License: http://www.apache.org/licenses/LICEN\r\n"
        " SE-2.0.txt\r\n\r\nName: x\r\nBundle-Version: 9\r\n"
    )
    assert parse_manifest(text) == {
        "Manifest-Version": "1.0",
        "Bundle-License": "http://www.apache.org/licenses/LICENSE-2.0.txt",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Apache-2.0", ("Apache-2.0",)),
        ('Apache-2.0;link="https://www.apache.org/licenses/LICENSE-2.0"', ("Apache-2.0",)),
        ("https://opensource.org/licenses/MIT, EPL-2.0", ("MIT", "EPL-2.0")),
        ("http://www.eclipse.org/legal/epl-v10.html", ("EPL-1.0",)),
        ("The Apache Software License, Version 2.0", ()),
        ("", ()),
    ],
)
def test_manifest_licenses(value: str, expected: tuple[str, ...]) -> None:
    assert manifest_licenses({"Bundle-License": value}) == expected


REAL = ["commons-cli.jar", "webapp.war", "boot-app-0.1.0.jar", "guice-jndi.jar"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fixture=st.sampled_from(REAL),
    edits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=8),
    tail=st.booleans(),
)
def test_mutated_archives_fail_cleanly(
    fixture: str, edits: list[tuple[int, int]], tail: bool
) -> None:
    """Mutations anywhere, or concentrated on the central directory, give ValueError at most."""
    blob = bytearray((FIXTURES / fixture).read_bytes())
    start = max(0, len(blob) - 4096) if tail else 0
    for index, value in edits:
        blob[start + index % (len(blob) - start)] = value
    with contextlib.suppress(ValueError):
        run(bytes(blob), fixture)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_fail_cleanly(blob: bytes) -> None:
    with contextlib.suppress(ValueError):
        run(b"PK\x03\x04" + blob, "x.jar")
