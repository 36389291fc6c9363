"""PHP Composer packages from ``composer.lock`` and ``vendor/composer/installed.json``.

``composer.lock`` lists production packages under ``packages`` and development ones under
``packages-dev``; only ``packages`` are reported (``composer install --no-dev``, the usual
image build, does not install the others). ``installed.json`` is what is actually in
``vendor/``: Composer 1 writes a JSON list of packages, Composer 2 an object with
``packages`` and ``dev-package-names``, whose entries are left out for the same reason.
A ``composer.lock`` inside a ``vendor/`` tree belongs to a library and is ignored.

Names are ``vendor/name`` as Packagist and the advisories spell them; a leading ``v`` of a
tag-style version (``v5.4.0``) is removed; ``license`` is a list of SPDX ids.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from seawall.inventory.analyzer import Analyzer, AnalyzerOutput, register
from seawall.inventory.analyzers._lang import (
    license_list,
    load_json,
    package,
    strip_v,
    text,
    unique,
)
from seawall.model import Ecosystem, Package

_INSTALLED = "vendor/composer/installed.json"


def _packages(path: str, entries: object, skip: frozenset[str] = frozenset()) -> list[Package]:
    if not isinstance(entries, list):
        return []
    found = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        name, version = text(entry.get("name")), strip_v(text(entry.get("version")))
        if name and version and name not in skip:
            licenses = license_list(entry.get("license"))
            found.append(package(Ecosystem.COMPOSER, name, version, path, licenses))
    return unique(found)


@register
class ComposerAnalyzer(Analyzer):
    """Composer packages from a lockfile or an installed ``vendor/`` directory."""

    name = "composer"
    basenames = frozenset({"composer.lock", "installed.json"})

    def accepts(self, path: str) -> bool:
        if path.endswith("installed.json"):
            return path == _INSTALLED or path.endswith("/" + _INSTALLED)
        # A composer.lock under vendor/ came with a library and says nothing about vendor/.
        return not (path.startswith("vendor/") or "/vendor/" in path)

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        document: Any = load_json(data)
        if isinstance(document, list):  # Composer 1 installed.json
            return AnalyzerOutput(packages=_packages(path, document))
        if not isinstance(document, dict):
            raise ValueError("Composer file is neither a JSON object nor a list")
        dev = document.get("dev-package-names")
        skip = frozenset(n for n in dev if isinstance(n, str)) if isinstance(dev, list) else None
        found = _packages(path, document.get("packages"), skip or frozenset())
        return AnalyzerOutput(packages=found)
