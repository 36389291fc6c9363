"""Installed Python distributions, from their core metadata files.

Every installer leaves one metadata file per distribution: ``<name>.dist-info/METADATA``
(wheels, pip), ``<name>.egg-info/PKG-INFO`` (setuptools develop/egg installs, Debian's
python3-* packages), ``<name>.egg/EGG-INFO/PKG-INFO`` (zipped eggs unpacked), and for old
distutils installs ``<name>.egg-info`` as a plain file. All are RFC 822 style headers
followed by an optional body (the long description), so only the header block is read, with
a hand parser: it stops at the first blank line and never looks at the description.

``Name`` is reported as written (the PyPI project name, which OSV matches after
normalisation). Licences come from, in order of preference: ``License-Expression``
(metadata 2.4, already SPDX); the ``License ::`` trove classifiers, when at least one maps
to an SPDX id (the others are kept as their classifier label); the free-text ``License``
field when it is short (one line, at most 100 characters, not "UNKNOWN"); else the classifier
labels as they are.
"""

from __future__ import annotations

from typing import BinaryIO

from seawall.inventory.analyzer import Analyzer, AnalyzerOutput, MiB, register
from seawall.inventory.analyzers._lang import package
from seawall.model import Ecosystem

# The header block of a real metadata file is a few KiB; stop reading well after that.
_MAX_HEADER = MiB
_MAX_LINE = 64 * 1024
_MAX_SHORT_LICENSE = 100
_WANTED = frozenset({"name", "version", "license", "license-expression", "classifier"})

# Trove classifier labels that name exactly one SPDX licence. Ambiguous ones ("BSD License",
# "Apache Software License", "GNU General Public License (GPL)") are deliberately absent.
_CLASSIFIER_SPDX = {
    "MIT License": "MIT",
    "MIT No Attribution License (MIT-0)": "MIT-0",
    "ISC License (ISCL)": "ISC",
    "Python Software Foundation License": "PSF-2.0",
    "Mozilla Public License 1.1 (MPL 1.1)": "MPL-1.1",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "GNU Lesser General Public License v2 or later (LGPLv2+)": "LGPL-2.0-or-later",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "GNU Affero General Public License v3": "AGPL-3.0-only",
    "GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later",
    "Eclipse Public License 1.0 (EPL-1.0)": "EPL-1.0",
    "Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "European Union Public Licence 1.1 (EUPL 1.1)": "EUPL-1.1",
    "European Union Public Licence 1.2 (EUPL 1.2)": "EUPL-1.2",
    "Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "The Unlicense (Unlicense)": "Unlicense",
    "Universal Permissive License (UPL)": "UPL-1.0",
    "zlib/libpng License": "Zlib",
    "Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "Common Development and Distribution License 1.0 (CDDL-1.0)": "CDDL-1.0",
    "CEA CeCILL License v2.1": "CECILL-2.1",
    "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
}

# Common spellings of the free-text License field, lower-cased, that mean one SPDX licence.
_LICENSE_SPDX = {
    "mit": "MIT",
    "mit license": "MIT",
    "the mit license": "MIT",
    "apache 2.0": "Apache-2.0",
    "apache-2.0": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "apache software license 2.0": "Apache-2.0",
    "isc": "ISC",
    "isc license": "ISC",
    "bsd-2-clause": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "mpl-2.0": "MPL-2.0",
    "psf": "PSF-2.0",
}


def read_headers(data: BinaryIO) -> dict[str, list[str]]:
    """The wanted header fields (lower-cased names) of a metadata file, values in order.

    Continuation lines (starting with a space or tab) are joined to their field with a
    newline. Reading stops at the first empty line, at a line that is not a header, or after
    ``_MAX_HEADER`` bytes.
    """
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    total = 0
    while total < _MAX_HEADER:
        raw = data.readline(_MAX_LINE)
        if not raw:
            break
        total += len(raw)
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            break
        if line[0] in " \t":
            if current is not None:
                current[-1] += "\n" + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            break
        key = key.strip().lower()
        current = fields.setdefault(key, []) if key in _WANTED else None
        if current is not None:
            current.append(value.strip())
    return fields


def choose_licenses(fields: dict[str, list[str]]) -> tuple[str, ...]:
    """The licences of a distribution from its header fields (order of preference above)."""
    expression = next((v for v in fields.get("license-expression", ()) if v), "")
    if expression:
        return (expression,)
    labels: list[str] = []
    mapped = False
    for classifier in fields.get("classifier", ()):
        parts = [part.strip() for part in classifier.split("::")]
        if len(parts) < 2 or parts[0] != "License":
            continue
        spdx = _CLASSIFIER_SPDX.get(parts[-1])
        mapped = mapped or spdx is not None
        labels.append(spdx or parts[-1])
    if mapped:
        return tuple(dict.fromkeys(labels))
    free = next(iter(fields.get("license", ())), "")
    if free and "\n" not in free and len(free) <= _MAX_SHORT_LICENSE and free != "UNKNOWN":
        return (_LICENSE_SPDX.get(free.lower(), free),)
    return tuple(dict.fromkeys(labels))


@register
class PythonMetadataAnalyzer(Analyzer):
    """Python distributions from ``METADATA``/``PKG-INFO`` files and ``*.egg-info`` files."""

    name = "python-metadata"
    basenames = frozenset({"METADATA", "PKG-INFO"})
    extensions = frozenset({".egg-info"})

    def accepts(self, path: str) -> bool:
        directory, _, basename = path.rpartition("/")
        if basename == "METADATA":
            return directory.endswith(".dist-info")
        if basename == "PKG-INFO":
            return directory.endswith((".egg-info", ".egg/EGG-INFO"))
        return basename.endswith(".egg-info")

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        fields = read_headers(data)
        name = next(iter(fields.get("name", ())), "")
        version = next(iter(fields.get("version", ())), "")
        if not name or not version:
            raise ValueError("metadata without Name or Version")
        licenses = choose_licenses(fields)
        return AnalyzerOutput(packages=[package(Ecosystem.PYPI, name, version, path, licenses)])
