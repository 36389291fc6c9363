"""Reading a file named by a user or found inside an input, within a size cap.

Only regular files are read: a FIFO (which would block forever), a device (``/dev/zero``
never ends), a directory or a socket is refused by name. The file is opened without
blocking, checked with ``fstat`` on the open descriptor (no race with a rename), and read up
to the cap plus one byte, so a file that grows while being read is still caught.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from seawall.errors import InputError, UnsafeInputError

_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class MissingFileError(InputError):
    """The file does not exist (for readers to whom a missing file is no error)."""


def describe(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def open_descriptor(path: Path | str, what: str = "") -> int:
    """A read-only descriptor of the regular file ``path`` (the caller closes it), for
    readers that map or seek (image archives, blobs).

    Opened without blocking, so a FIFO cannot hang the open, and checked with ``fstat`` on
    the descriptor. InputError names the file and the problem: no such file, permission
    denied, not a regular file (what it is)."""
    name = what or str(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):
        raise MissingFileError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{name}: a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"{name}: {exc.strerror or exc}") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise InputError(f"{name}: {describe(mode)}, not a regular file")
    return descriptor


def open_regular(path: Path | str, what: str = "") -> BinaryIO:
    """The regular file ``path`` opened for reading (binary, buffered), for inputs read as a
    stream of bounded lines (event logs) rather than whole; the same refusals as
    :func:`open_descriptor`, no size cap."""
    return os.fdopen(open_descriptor(path, what), "rb")


def read_regular(path: Path | str, limit: int, what: str = "") -> bytes:
    """The content of the regular file ``path``, at most ``limit`` bytes.

    InputError names the file and the problem: no such file, permission denied, not a
    regular file (what it is), larger than ``limit``."""
    name = what or str(path)
    descriptor = open_descriptor(path, name)
    size = os.fstat(descriptor).st_size
    if size > limit:
        os.close(descriptor)
        raise UnsafeInputError(f"{name}: larger than {limit} bytes ({size})")
    with os.fdopen(descriptor, "rb", buffering=0) as file:
        try:
            data = file.read(limit + 1)
        except OSError as exc:
            raise InputError(f"{name}: {exc.strerror or exc}") from None
    if data is None or len(data) > limit:
        raise UnsafeInputError(f"{name}: larger than {limit} bytes")
    return data


def refuse_replacing(path: Path, what: str = "") -> None:
    """Refuse ``path`` as a file to be replaced whole (written beside, then renamed over)
    unless it is missing or a regular file: renaming over ``/dev/zero`` as root replaces
    the device."""
    try:
        mode = Path(path).stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"{what or path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{what or path}: {describe(mode)}, not a regular file")
