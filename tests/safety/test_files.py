"""Reading a named file: only regular files, within a cap, never blocking on a FIFO."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from seawall.errors import InputError, UnsafeInputError
from seawall.safety.files import open_regular, read_regular, refuse_replacing


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"{}")
    assert read_regular(path, 10) == b"{}"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "no such file"),
        (lambda p: (p.mkdir(), p)[1], "a directory"),
        (lambda p: (os.mkfifo(p), p)[1], "a FIFO, not a regular file"),
        (lambda p: Path("/dev/zero"), "a character device, not a regular file"),
        (lambda p: Path("/dev/null"), "a character device, not a regular file"),
    ],
    ids=["missing", "directory", "fifo", "dev-zero", "dev-null"],
)
def test_what_is_not_a_regular_file_is_named(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path / "x")
    started = time.monotonic()
    with pytest.raises(InputError, match=message):
        read_regular(path, 1024, "the suite")
    assert time.monotonic() - started < 5  # a FIFO with no writer does not block


def test_the_cap_holds(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"x" * 1001)
    with pytest.raises(UnsafeInputError, match="larger than 1000 bytes"):
        read_regular(path, 1000)
    assert read_regular(path, 1001) == b"x" * 1001


def test_open_regular_streams_a_regular_file_and_refuses_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "events.log"
    path.write_bytes(b"one\ntwo\n")
    with open_regular(path) as stream:
        assert stream.readlines() == [b"one\n", b"two\n"]
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for refused, message in ((fifo, "a FIFO"), (Path("/dev/zero"), "a character device")):
        with pytest.raises(InputError, match=message):
            open_regular(refused)


def test_only_a_regular_file_or_nothing_is_replaced(tmp_path: Path) -> None:
    refuse_replacing(tmp_path / "new.db")
    (tmp_path / "old.db").write_bytes(b"x")
    refuse_replacing(tmp_path / "old.db")
    for path, message in ((Path("/dev/zero"), "a character device"), (tmp_path, "a directory")):
        with pytest.raises(InputError, match=f"{path}: {message}, not a regular file"):
            refuse_replacing(path)
