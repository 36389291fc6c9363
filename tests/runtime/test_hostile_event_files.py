"""Recorded event files as hostile input: only regular files, and one bad line (malformed,
nested too deep, too long) reported and skipped while the rest is read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from seawall.errors import InputError
from seawall.runtime.badinput import BadInput
from seawall.runtime.replay import read_events
from tests.runtime.conftest import K8S
from tests.support.hostile import deep_json


def test_a_fifo_or_a_device_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "events.jsonl"
    os.mkfifo(fifo)
    for path, message in ((fifo, "a FIFO"), (Path("/dev/zero"), "a character device")):
        with pytest.raises(InputError, match=message):
            list(read_events(path, BadInput()))


def test_bad_lines_are_skipped_and_the_rest_is_read(tmp_path: Path) -> None:
    event = (K8S / "exec_pod.json").read_bytes().strip()
    mixed = tmp_path / "audit.jsonl"
    mixed.write_bytes(
        b"\n".join([deep_json(), event, b'{"kind": "Event", "x": ' + deep_json(), event,
                    b"{" * 10_000_000, event]) + b"\n"
    )  # fmt: skip
    bad = BadInput()
    assert len(list(read_events(mixed, bad))) == 3
    assert bad.counts == {"JSON beyond limits": 2, "oversized line": 1}


def test_an_eventlist_document_nested_too_deep_is_skipped(tmp_path: Path) -> None:
    document = tmp_path / "list.json"
    document.write_bytes(b'{"kind": "EventList",\n "items": ' + deep_json() + b"}\n")
    bad = BadInput()
    assert list(read_events(document, bad)) == []
    assert bad.counts == {"JSON beyond limits": 1}


def test_a_bad_eventlist_item_is_skipped_and_the_rest_is_read(tmp_path: Path) -> None:
    event = (K8S / "exec_pod.json").read_bytes().strip()
    document = tmp_path / "list.json"
    document.write_bytes(
        b'{"kind": "EventList", "apiVersion": "audit.k8s.io/v1",\n "items": ['
        + b", ".join([event, b'{"verb": 3}', b"[]", event])
        + b"]}\n"
    )
    bad = BadInput()
    assert len(list(read_events(document, bad))) == 2
    assert bad.counts == {"non-audit JSON": 2}


def test_an_eventlist_of_too_many_values_is_skipped_unbuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEAWALL_MAX_JSON_VALUES", "1000")
    document = tmp_path / "list.json"
    document.write_bytes(b'{"kind": "EventList",\n "items": [' + b"{}," * 1000 + b"{}]}\n")
    bad = BadInput()
    assert list(read_events(document, bad)) == []
    assert bad.counts == {"JSON beyond limits": 1}


def test_a_followed_log_that_is_a_fifo_is_reported_once(tmp_path: Path) -> None:
    from seawall.runtime.files import FileFollower

    fifo = tmp_path / "audit.log"
    os.mkfifo(fifo)
    bad = BadInput()
    follower = FileFollower(fifo, lambda line: None, bad, 1024, interval=0.01)
    for _ in range(5):
        assert follower._open(at_end=False) is None
    assert bad.counts == {"unreadable log file": 1}
