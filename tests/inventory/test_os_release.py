"""The distribution analyzer on real os-release and release files (see fixtures' SOURCES.md)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.inventory.analyzer import AnalyzerIndex
from seawall.inventory.analyzers.os_release import (
    OSReleaseAnalyzer,
    distro_precedence,
    parse_env_file,
)
from seawall.model import OSInfo

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory" / "os_release"


def analyze(fixture: str, path: str) -> OSInfo | None:
    data = (FIXTURES / fixture).read_bytes()
    return OSReleaseAnalyzer().analyze(path, io.BytesIO(data)).distro


@pytest.mark.parametrize(
    ("fixture", "path", "expected"),
    [
        (
            "debian-12.os-release",
            "etc/os-release",
            OSInfo(
                id="debian",
                version_id="12",
                name="Debian GNU/Linux 12 (bookworm)",
                codename="bookworm",
            ),
        ),
        (
            "debian-8.os-release",
            "usr/lib/os-release",
            OSInfo(
                id="debian", version_id="8", name="Debian GNU/Linux 8 (jessie)", codename="jessie"
            ),
        ),
        (
            "ubuntu-22.04.os-release",
            "etc/os-release",
            OSInfo(
                id="ubuntu",
                version_id="22.04",
                name="Ubuntu 22.04.3 LTS",
                codename="jammy",
                id_like=("debian",),
            ),
        ),
        (
            "alpine-3.19.os-release",
            "etc/os-release",
            OSInfo(id="alpine", version_id="3.19.1", name="Alpine Linux v3.19"),
        ),
        (
            "rocky-9.3.os-release",
            "etc/os-release",
            OSInfo(
                id="rocky",
                version_id="9.3",
                name="Rocky Linux 9.3 (Blue Onyx)",
                id_like=("rhel", "centos", "fedora"),
            ),
        ),
        (
            "amzn-2.os-release",
            "etc/os-release",
            OSInfo(
                id="amzn",
                version_id="2",
                name="Amazon Linux 2",
                id_like=("centos", "rhel", "fedora"),
            ),
        ),
        (
            "sles-15.5.os-release",
            "usr/lib/os-release",
            OSInfo(
                id="sles",
                version_id="15.5",
                name="SUSE Linux Enterprise Server 15 SP5",
                id_like=("suse",),
            ),
        ),
        (
            "wolfi.os-release",
            "etc/os-release",
            OSInfo(id="wolfi", version_id="20230201", name="Wolfi"),
        ),
        (
            "ubuntu-22.04.lsb-release",
            "etc/lsb-release",
            OSInfo(id="ubuntu", version_id="22.04", name="Ubuntu 22.04.3 LTS", codename="jammy"),
        ),
        (
            "alpine-3.19.alpine-release",
            "etc/alpine-release",
            OSInfo(id="alpine", version_id="3.19.1"),
        ),
        ("debian-12.debian_version", "etc/debian_version", OSInfo(id="debian", version_id="12.11")),
        (
            "centos-7.9.centos-release",
            "etc/centos-release",
            OSInfo(
                id="centos",
                version_id="7.9.2009",
                name="CentOS Linux release 7.9.2009 (Core)",
                id_like=("rhel", "fedora"),
            ),
        ),
        (
            "rhel-8.9.redhat-release",
            "etc/redhat-release",
            OSInfo(
                id="rhel",
                version_id="8.9",
                name="Red Hat Enterprise Linux release 8.9 (Ootpa)",
                codename="Ootpa",
                id_like=("fedora",),
            ),
        ),
        (
            "rocky-9.3.rocky-release",
            "etc/rocky-release",
            OSInfo(
                id="rocky",
                version_id="9.3",
                name="Rocky Linux release 9.3 (Blue Onyx)",
                codename="Blue Onyx",
                id_like=("rhel", "fedora"),
            ),
        ),
        (
            "almalinux-9.3.almalinux-release",
            "etc/almalinux-release",
            OSInfo(
                id="almalinux",
                version_id="9.3",
                name="AlmaLinux release 9.3 (Shamrock Pearl)",
                codename="Shamrock Pearl",
                id_like=("rhel", "fedora"),
            ),
        ),
        (
            "amzn-2.system-release",
            "etc/system-release",
            OSInfo(
                id="amzn",
                version_id="2",
                name="Amazon Linux release 2 (Karoo)",
                codename="Karoo",
                id_like=("rhel", "fedora"),
            ),
        ),
        (
            "sles-12.5.SuSE-release",
            "etc/SuSE-release",
            OSInfo(
                id="sles",
                version_id="12.5",
                name="SUSE Linux Enterprise Server 12",
                id_like=("suse",),
            ),
        ),
        (
            "opensuse-42.3.SuSE-release",
            "etc/SuSE-release",
            OSInfo(
                id="opensuse-leap",
                version_id="42.3",
                name="openSUSE 42.3",
                codename="Malachite",
                id_like=("suse",),
            ),
        ),
    ],
)
def test_real_release_files(fixture: str, path: str, expected: OSInfo) -> None:
    assert analyze(fixture, path) == expected


def test_ubuntu_debian_version_is_not_a_version() -> None:
    # Ubuntu's debian_version says "bookworm/sid"; it still parses, but loses to lsb-release.
    assert analyze("ubuntu-22.04.debian_version", "etc/debian_version") == OSInfo(
        id="debian", version_id="bookworm/sid"
    )
    assert distro_precedence("etc/lsb-release") > distro_precedence("etc/debian_version")


def test_precedence_orders_sources() -> None:
    ranked = sorted(
        [
            "etc/redhat-release",
            "etc/os-release",
            "etc/centos-release",
            "usr/lib/os-release",
            "etc/debian_version",
        ],
        key=distro_precedence,
        reverse=True,
    )
    assert ranked == [
        "etc/os-release",
        "usr/lib/os-release",
        "etc/centos-release",
        "etc/redhat-release",
        "etc/debian_version",
    ]
    assert distro_precedence("etc/passwd") == 0


def test_index_selects_release_files() -> None:
    index = AnalyzerIndex([OSReleaseAnalyzer()])
    assert index.candidates("etc/os-release", False)
    assert index.candidates("usr/lib/os-release", False)
    assert index.candidates("etc/SuSE-release", False)
    assert not index.candidates("etc/os-release.d/x", False)
    assert not index.candidates("usr/share/os-release", False)


def test_missing_id_gives_warning_not_distro() -> None:
    out = OSReleaseAnalyzer().analyze("etc/os-release", io.BytesIO(b'NAME="Nothing"\n'))
    assert out.distro is None
    assert out.warnings


def test_env_file_quoting() -> None:
    text = '# comment\nA=plain\nB="with \\"quote\\" and \\\\"\nC=\'single $x\'\nnot a line\n'
    assert parse_env_file(text) == {"A": "plain", "B": 'with "quote" and \\', "C": "single $x"}


@settings(max_examples=300, deadline=1000)
@given(
    path=st.sampled_from(sorted(OSReleaseAnalyzer.paths)),
    data=st.binary(max_size=2048),
)
def test_arbitrary_bytes_never_crash(path: str, data: bytes) -> None:
    out = OSReleaseAnalyzer().analyze(path, io.BytesIO(data))
    assert out.distro is None or out.distro.id
