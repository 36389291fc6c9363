"""Fuzz target: the tar reader (``seawall.image.tarreader``) that walks every layer and image
archive, both ways it reads (a mapped window and a stream), with member names normalised as
the layer reader does. Anything but an ImageFormatError or UnsafeInputError is a bug."""

from __future__ import annotations

import contextlib
import io
import sys

import atheris

with atheris.instrument_imports():
    from seawall.errors import ImageFormatError, UnsafeInputError
    from seawall.image.tarreader import StreamSource, WindowSource, iter_tar, safe_member_path


def _walk(source: WindowSource | StreamSource) -> None:
    for entry in iter_tar(source):
        safe_member_path(entry.name)
        if entry.is_file:
            source.read(min(entry.size, 64))


def TestOneInput(data: bytes) -> None:
    for source in (WindowSource(memoryview(data), 0, len(data)), StreamSource(io.BytesIO(data))):
        with contextlib.suppress(ImageFormatError, UnsafeInputError):
            _walk(source)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
