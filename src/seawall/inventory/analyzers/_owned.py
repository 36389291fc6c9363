"""Which files of an OS package are worth remembering as "owned" (``Package.owned_files``).

OS packages own thousands of files, but ownership only matters for files a language analyzer
could also report: when ``python3-requests`` (deb) installed ``requests-2.28.1.dist-info``, the
PyPI package found there is the same software and should not be reported twice. Keeping only
those paths keeps cached layer results small. The kept paths are language metadata files and
the programs in the standard ``bin`` directories (Go and Rust binaries embed their modules):

* Python metadata: anything inside or named ``*.dist-info`` / ``*.egg-info``;
* npm: ``package.json`` below a ``node_modules`` directory or Debian's ``usr/share/nodejs``;
* Java archives (``.jar``, ``.war``, ``.ear``), Ruby ``.gemspec`` files, Composer's
  ``composer/installed.json``;
* files directly in ``bin``, ``sbin``, ``usr/bin``, ``usr/sbin``, ``usr/local/bin``,
  ``usr/local/sbin``.

Paths are root-relative without a leading slash, like every other path in Seawall.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_BIN_DIRS = frozenset({"bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "usr/local/sbin"})
_ARCHIVES = (".jar", ".war", ".ear", ".gemspec")
_NODE_TREES = ("usr/share/nodejs/", "usr/lib/nodejs/")
_PYTHON_METADATA = re.compile(r"\.(?:dist|egg)-info(?:/|$)")


def keep_owned(path: str) -> bool:
    """True if ``path`` (root-relative) is a file a language analyzer might also report.

    Plain string tests first: this runs on every file of every OS package.
    """
    head, _, base = path.rpartition("/")
    if head in _BIN_DIRS or base.endswith(_ARCHIVES):
        return True
    if base == "package.json":
        return "/node_modules/" in f"/{head}/" or path.startswith(_NODE_TREES)
    if base == "installed.json":
        return head == "composer" or head.endswith("/composer")
    if ".dist-info" in path or ".egg-info" in path:
        return _PYTHON_METADATA.search(path) is not None
    return False


def owned_paths(paths: Iterable[str]) -> tuple[str, ...]:
    """The kept paths among absolute or relative ``paths``, without leading slashes, in order.

    Directory entries (``/usr/lib/python3/dist-packages/x.dist-info``) are kept like files
    when they match, so an analyzer reporting the metadata directory also finds its owner.
    """
    kept: list[str] = []
    for raw in paths:
        path = raw.lstrip("/")
        if path and keep_owned(path):
            kept.append(path)
    return tuple(dict.fromkeys(kept))
