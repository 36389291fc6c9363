"""The Composer analyzer on files Composer 1 and 2 wrote (see SOURCES.md)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from seawall.inventory.analyzer import AnalyzerIndex
from seawall.inventory.analyzers.composer import ComposerAnalyzer
from seawall.model import Ecosystem, Package

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory" / "composer"


def analyze(fixture: str, path: str) -> list[Package]:
    return ComposerAnalyzer().analyze(path, io.BytesIO((FIXTURES / fixture).read_bytes())).packages


def mit(name: str, version: str, path: str) -> Package:
    return Package(
        ecosystem=Ecosystem.COMPOSER, name=name, version=version, path=path, licenses=("MIT",)
    )


@pytest.mark.parametrize(
    ("fixture", "path"),
    [
        ("composer.lock", "var/www/composer.lock"),
        ("installed-v2.json", "var/www/vendor/composer/installed.json"),
    ],
)
def test_production_packages_only(fixture: str, path: str) -> None:
    # psr/container is require-dev: in packages-dev / dev-package-names.
    assert analyze(fixture, path) == [
        mit("psr/log", "1.1.4", path),
        mit("symfony/polyfill-mbstring", "1.27.0", path),  # "v1.27.0" in the file
    ]


def test_composer_1_installed_json() -> None:
    path = "vendor/composer/installed.json"
    assert analyze("installed-v1.json", path) == [
        Package(
            ecosystem=Ecosystem.COMPOSER,
            name="twig/twig",
            version="1.29.0",
            path=path,
            licenses=("BSD-3-Clause",),
        )
    ]


def test_not_json_is_an_error() -> None:
    with pytest.raises(ValueError):
        ComposerAnalyzer().analyze("composer.lock", io.BytesIO(b'{"packages": ['))


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("var/www/composer.lock", True),
        ("var/www/vendor/composer/installed.json", True),
        ("vendor/composer/installed.json", True),
        ("var/www/vendor/acme/lib/composer.lock", False),
        ("var/www/installed.json", False),
        ("var/www/myvendor/composer/installed.json", False),
    ],
)
def test_file_selection(path: str, wanted: bool) -> None:
    assert bool(AnalyzerIndex([ComposerAnalyzer()]).candidates(path, executable=False)) is wanted
