"""The ``seawall`` executable's entry point.

Before the command line library and the engines load (a quarter of a second), the digests
of a plain tar image named on the command line start being computed in the background
(:mod:`seawall.image.digests`); then the real command line runs.
"""

from __future__ import annotations

import sys

_IMAGE_COMMANDS = frozenset(("sbom", "image"))


def run() -> None:
    """Entry point of the ``seawall`` command and of ``python -m seawall``."""
    if len(sys.argv) > 2 and sys.argv[1] in _IMAGE_COMMANDS:
        from seawall.image import digests

        digests.start_for_arguments(sys.argv[2:])
    from seawall.cli.main import run as main

    main()
