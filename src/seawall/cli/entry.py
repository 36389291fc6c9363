"""The ``seawall`` executable's entry point.

Before the command line library and the engines load (a quarter of a second), the digests
of a plain tar image named on the command line start being computed in the background by a
:class:`~seawall.image.digests.DigestPrefetcher`; then the real command line runs and hands
that prefetcher to the command that reads the image. It is closed when the command ends.
"""

from __future__ import annotations

import sys

_IMAGE_COMMANDS = frozenset(("sbom", "image"))


def run() -> None:
    """Entry point of the ``seawall`` command and of ``python -m seawall``."""
    if len(sys.argv) <= 2 or sys.argv[1] not in _IMAGE_COMMANDS:
        from seawall.cli.main import run as main

        main()
        return
    from seawall.image.digests import DigestPrefetcher

    with DigestPrefetcher() as prefetcher:
        prefetcher.start_for_arguments(sys.argv[2:])
        from seawall.cli.main import run as main

        main(prefetcher)
