"""Reading recorded events from files: Kubernetes audit (JSON lines or one EventList
document), Docker event dumps (JSON lines) and auditd logs; the format is detected.

Only regular files are read (a FIFO or ``/dev/zero`` is refused in one line). Lines are
bounded; a bad line or event (malformed, too long, nested too deep, not an event) is counted,
reported once and skipped, and the rest of the file goes on. A whole-file EventList is
read within the ``EVENT_DOCUMENT`` cap.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from pathlib import Path

import msgspec

from seawall.errors import InputError
from seawall.model import Alert
from seawall.runtime.alerts import Detector
from seawall.runtime.badinput import BadInput
from seawall.runtime.events import Event
from seawall.runtime.files import bounded_lines
from seawall.runtime.sources import auditd, docker_events, k8s_audit
from seawall.safety.files import open_regular
from seawall.safety.limits import max_bytes
from seawall.safety.nesting import json_too_deep


class Format(enum.StrEnum):
    K8S_AUDIT = "k8s-audit"
    K8S_DOCUMENT = "k8s-audit-document"
    DOCKER = "docker"
    AUDITD = "auditd"


def detect(path: Path) -> Format:
    """Which kind of event file ``path`` is, from its first non-empty line."""
    try:
        with open_regular(path) as stream:
            head = stream.read(65536)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    first = next((ln.strip() for ln in head.splitlines() if ln.strip()), b"")
    if not first:
        return Format.K8S_AUDIT  # empty: nothing to read, any reader will do
    if auditd.parse_record(first.decode("utf-8", "replace")) is not None:
        return Format.AUDITD
    if not first.startswith((b"{", b"[")):
        raise InputError(
            f"{path}: not an event file",
            hint="expected Kubernetes audit JSON, a Docker event dump or an auditd log",
        )
    if json_too_deep(first):
        return Format.K8S_AUDIT  # a bad first line: the reader reports and skips it
    try:
        obj = msgspec.json.decode(first)
    except msgspec.DecodeError:
        return Format.K8S_DOCUMENT  # a pretty-printed document spans lines
    return Format.DOCKER if docker_events.looks_like_docker(obj) else Format.K8S_AUDIT


def read_events(path: Path, bad: BadInput) -> Iterator[Event]:
    """Every event in ``path``, in file order; bad records are counted in ``bad``."""
    fmt = detect(path)
    with open_regular(path) as stream:
        if fmt is Format.K8S_DOCUMENT:
            limit = max_bytes("EVENT_DOCUMENT")
            data = stream.read(limit + 1)
            if len(data) > limit:
                raise InputError(f"{path}: document larger than {limit} bytes")
            parser = k8s_audit.AuditParser(bad)
            parser.max_bytes = limit
            yield from parser.parse(data)
        elif fmt is Format.K8S_AUDIT:
            parser = k8s_audit.AuditParser(bad)
            for line in bounded_lines(stream, max_bytes("AUDIT_EVENT"), bad):
                if line.strip():
                    yield from parser.parse(line)
        elif fmt is Format.DOCKER:
            for line in bounded_lines(stream, max_bytes("DOCKER_EVENT"), bad):
                if line.strip():
                    event = docker_events.parse_record(line, bad)
                    if event is not None:
                        yield event
        else:
            assembler = auditd.AuditAssembler(bad)
            for line in bounded_lines(stream, max_bytes("AUDITD_LINE"), bad):
                yield from assembler.feed(line.decode("utf-8", "replace"))
            yield from assembler.flush()


def replay(paths: list[Path], detector: Detector, bad: BadInput) -> list[Alert]:
    """Evaluate every event of ``paths`` from start to end; the folded alerts.

    When not one record of any file could be read, the input is refused (InputError): it is
    not an event file, whatever its first line looked like. (Bad records among good ones
    are counted in ``bad`` and skipped.)"""
    events = 0
    for path in paths:
        for event in read_events(path, bad):
            events += 1
            detector.process(event)
    if not events and bad.total():
        named = str(paths[0]) if len(paths) == 1 else f"{len(paths)} files"
        raise InputError(f"{named}: no event could be read: {bad.summary(details=True)}")
    return detector.folder.drain()
