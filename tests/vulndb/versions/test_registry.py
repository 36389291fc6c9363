"""scheme_for and compare: OSV ecosystem names, release suffixes, unknown names."""

from __future__ import annotations

import pytest

from seawall.errors import InputError
from seawall.vulndb.versions import UnknownEcosystem, compare, scheme_for


@pytest.mark.parametrize(
    ("ecosystem", "scheme"),
    [
        ("Debian", "dpkg"),
        ("Debian:12", "dpkg"),
        ("Ubuntu:22.04:LTS", "dpkg"),
        ("Ubuntu:Pro:18.04:LTS", "dpkg"),
        ("Alpine:v3.19", "apk"),
        ("Wolfi", "apk"),
        ("Chainguard", "apk"),
        ("Red Hat", "rpm"),
        ("Red Hat:enterprise_linux:9::appstream", "rpm"),
        ("AlmaLinux:9", "rpm"),
        ("Rocky Linux:9", "rpm"),
        ("SUSE:Linux Enterprise Server 15 SP5", "rpm"),
        ("openSUSE:Leap 15.5", "rpm"),
        ("Mageia:9", "rpm"),
        ("openEuler:24.03-LTS", "rpm"),
        ("Photon OS:5.0", "rpm"),
        ("Azure Linux:3", "rpm"),
        ("MinimOS", "apk"),
        ("Alpaquita:stream", "apk"),
        ("BellSoft Hardened Containers:stream", "apk"),
        ("PyPI", "pep440"),
        ("npm", "npm"),
        ("Go", "go"),
        ("crates.io", "crates.io"),
        ("Maven", "maven"),
        ("Maven:https://repo.maven.apache.org/maven2/", "maven"),
        ("RubyGems", "rubygems"),
        ("Packagist", "packagist"),
        ("NuGet", "nuget"),
        ("SEMVER", "semver"),
    ],
)
def test_scheme_for_osv_names(ecosystem: str, scheme: str) -> None:
    assert scheme_for(ecosystem).name == scheme


@pytest.mark.parametrize("ecosystem", ["", "Debain", "Hex", "GIT", "Linux", ":12"])
def test_unknown_ecosystem(ecosystem: str) -> None:
    with pytest.raises(UnknownEcosystem) as caught:
        scheme_for(ecosystem)
    assert isinstance(caught.value, InputError)
    assert isinstance(caught.value, ValueError)
    assert "known:" in caught.value.hint


def test_compare_is_three_way() -> None:
    assert compare("Debian:12", "1.0-1", "1.0-2") == -1
    assert compare("Debian:12", "1.0-2", "1.0-1") == 1
    assert compare("Debian:12", "1:1.0", "01:1.0") == 0


def test_keys_are_cached() -> None:
    key = scheme_for("PyPI").key
    assert key("1.0") is key("1.0")
