"""``python -m seawall``: the same as the ``seawall`` command."""

from seawall.cli.entry import run

run()
