"""The Python metadata analyzer on real METADATA / PKG-INFO / egg-info files (see SOURCES.md)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from seawall.inventory.analyzer import AnalyzerIndex
from seawall.inventory.analyzers.python import PythonMetadataAnalyzer, read_headers
from seawall.model import Ecosystem, Package

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory" / "python"
SITE = "usr/local/lib/python3.11/site-packages"


def analyze(fixture: str, path: str) -> list[Package]:
    data = io.BytesIO((FIXTURES / fixture).read_bytes())
    return PythonMetadataAnalyzer().analyze(path, data).packages


@pytest.mark.parametrize(
    ("fixture", "path", "name", "version", "licenses"),
    [
        # License-Expression wins over everything else.
        ("attrs.METADATA", f"{SITE}/attrs-25.4.0.dist-info/METADATA", "attrs", "25.4.0", ("MIT",)),
        (
            "pythonnet.METADATA",
            f"{SITE}/pythonnet-3.2.1.dist-info/METADATA",
            "pythonnet",
            "3.2.1",
            ("MIT",),
        ),
        # A classifier that maps to SPDX.
        ("six.METADATA", f"{SITE}/six-1.16.0.dist-info/METADATA", "six", "1.16.0", ("MIT",)),
        # "Apache Software License" is ambiguous: the short License field is used instead.
        (
            "requests.METADATA",
            f"{SITE}/requests-2.32.3.dist-info/METADATA",
            "requests",
            "2.32.3",
            ("Apache-2.0",),
        ),
        # No mappable classifier, no License field: the classifier labels.
        (
            "packaging.METADATA",
            f"{SITE}/packaging-25.0.dist-info/METADATA",
            "packaging",
            "25.0",
            ("Apache Software License", "BSD License"),
        ),
        # One classifier maps: all are reported, mapped or as labels.
        (
            "docutils.METADATA",
            f"{SITE}/docutils-0.21.2.dist-info/METADATA",
            "docutils",
            "0.21.2",
            ("Public Domain", "PSF-2.0", "BSD License", "GNU General Public License (GPL)"),
        ),
        (
            "PyJWT.PKG-INFO",
            "usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info/PKG-INFO",
            "PyJWT",
            "2.6.0",
            ("MIT",),
        ),
        (
            "wsgiref.egg-info",
            "usr/lib/python2.7/wsgiref.egg-info",
            "wsgiref",
            "0.1.2",
            ("PSF or ZPL",),
        ),
        # License: UNKNOWN is no licence.
        (
            "my_test_package.EGG-INFO.PKG-INFO",
            "opt/eggs/my_test_package-1.0-py3.7.egg/EGG-INFO/PKG-INFO",
            "my-test-package",
            "1.0",
            (),
        ),
    ],
)
def test_real_metadata(
    fixture: str, path: str, name: str, version: str, licenses: tuple[str, ...]
) -> None:
    assert analyze(fixture, path) == [
        Package(ecosystem=Ecosystem.PYPI, name=name, version=version, path=path, licenses=licenses)
    ]


def test_only_the_header_block_is_read() -> None:
    data = (FIXTURES / "attrs.METADATA").read_bytes()
    stream = io.BytesIO(data)
    fields = read_headers(stream)
    assert fields["name"] == ["attrs"]
    assert stream.tell() == data.index(b"\n\n") + 2 < len(data)


def test_body_lines_that_look_like_headers_are_ignored() -> None:
    data = b"Metadata-Version: 2.1\nName: real\nVersion: 1.0\n\nName: fake\nVersion: 9\n"
    (pkg,) = PythonMetadataAnalyzer().analyze("a.dist-info/METADATA", io.BytesIO(data)).packages
    assert (pkg.name, pkg.version) == ("real", "1.0")


def test_long_license_text_is_not_a_licence() -> None:
    header = b"Name: x\nVersion: 1\nLicense: Copyright (c) 2020 Someone\n        Permission is\n"
    (pkg,) = PythonMetadataAnalyzer().analyze("x.dist-info/METADATA", io.BytesIO(header)).packages
    assert pkg.licenses == ()


def test_missing_version_is_an_error() -> None:
    with pytest.raises(ValueError, match="Version"):
        PythonMetadataAnalyzer().analyze("x.dist-info/METADATA", io.BytesIO(b"Name: x\n\n"))


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        (f"{SITE}/attrs-25.4.0.dist-info/METADATA", True),
        ("usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info/PKG-INFO", True),
        ("usr/lib/python2.7/wsgiref.egg-info", True),
        ("opt/x-1.0-py3.7.egg/EGG-INFO/PKG-INFO", True),
        ("src/project/PKG-INFO", False),  # an sdist's top-level PKG-INFO is not an install
        ("usr/share/doc/METADATA", False),
        (f"{SITE}/attrs-25.4.0.dist-info/RECORD", False),
    ],
)
def test_file_selection(path: str, wanted: bool) -> None:
    index = AnalyzerIndex([PythonMetadataAnalyzer()])
    assert bool(index.candidates(path, executable=False)) is wanted
