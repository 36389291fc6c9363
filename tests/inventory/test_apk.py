"""The apk analyzer on an installed database in the real format (see SOURCES.md)."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.inventory.analyzer import AnalyzerIndex
from seawall.inventory.analyzers.apk import ApkInstalledAnalyzer, iter_records
from seawall.model import Ecosystem, Package

FIXTURE = (
    Path(__file__).parent.parent / "fixtures" / "inventory" / "apk" / "installed"
).read_bytes()
PATH = "lib/apk/db/installed"


def test_installed_database() -> None:
    out = ApkInstalledAnalyzer().analyze(PATH, io.BytesIO(FIXTURE))
    assert out.warnings == []
    rows = [
        (p.name, p.version, p.arch, p.source_name, p.source_version, p.licenses)
        for p in out.packages
    ]
    assert rows == [
        ("musl", "1.2.4_git20230717-r4", "x86_64", "musl", "1.2.4_git20230717-r4", ("MIT",)),
        ("busybox", "1.36.1-r15", "x86_64", "busybox", "1.36.1-r15", ("GPL-2.0-only",)),
        ("libcrypto3", "3.1.4-r2", "x86_64", "openssl", "3.1.4-r2", ("Apache-2.0",)),
        ("libssl3", "3.1.4-r2", "x86_64", "openssl", "3.1.4-r2", ("Apache-2.0",)),
        ("py3-setuptools", "68.2.2-r0", "noarch", "py3-setuptools", "68.2.2-r0", ("MIT",)),
    ]
    packages = {p.name: p for p in out.packages}
    assert packages["busybox"].owned_files == ("bin/busybox",)
    assert packages["py3-setuptools"].owned_files == (
        "usr/lib/python3.11/site-packages/setuptools-68.2.2.dist-info/METADATA",
        "usr/lib/python3.11/site-packages/setuptools-68.2.2.dist-info/RECORD",
    )
    assert packages["libssl3"] == Package(
        ecosystem=Ecosystem.APK,
        name="libssl3",
        version="3.1.4-r2",
        path=PATH,
        source_name="openssl",
        source_version="3.1.4-r2",
        arch="x86_64",
        licenses=("Apache-2.0",),
    )


def test_index_selection() -> None:
    index = AnalyzerIndex([ApkInstalledAnalyzer()])
    assert index.candidates(PATH, False)
    assert not index.candidates("lib/apk/db/triggers", False)
    assert not index.candidates("usr/lib/apk/db/installed", False)


def test_missing_fields_and_defaults() -> None:
    text = "P:noversion\n\nP:x\nV:1-r0\nF:usr/bin\nR:x\n\n\nV:2\n"
    out = ApkInstalledAnalyzer().analyze(PATH, io.BytesIO(text.encode()))
    assert [(p.name, p.source_name, p.licenses, p.owned_files) for p in out.packages] == [
        ("x", "x", (), ("usr/bin/x",))
    ]
    assert len(out.warnings) == 2


def test_record_files_reset_between_records() -> None:
    text = "P:a\nV:1\nF:usr/bin\nR:a\n\nP:b\nV:1\nR:b\n"
    records = list(iter_records(text))
    assert [r.files for r in records] == [["usr/bin/a"], ["b"]]


@settings(max_examples=300, deadline=1000)
@given(st.text(alphabet=st.sampled_from(list("PVALoFRZ:\n /ab1-r.")), max_size=400))
def test_apk_text_never_crashes(text: str) -> None:
    out = ApkInstalledAnalyzer().analyze(PATH, io.BytesIO(text.encode()))
    assert all(p.name and p.version for p in out.packages)


@settings(max_examples=200, deadline=1000)
@given(st.data())
def test_mutated_database_never_crashes(data: st.DataObject) -> None:
    blob = bytearray(FIXTURE)
    for _ in range(data.draw(st.integers(0, 30))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    out = ApkInstalledAnalyzer().analyze(PATH, io.BytesIO(bytes(blob)))
    assert len(out.packages) <= 40
