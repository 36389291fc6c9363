"""Fuzz target: one recorded event line as ``runtime replay`` and ``watch`` read it
(Kubernetes audit, Docker event, auditd). Nothing may escape: a bad line is counted and
skipped."""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from seawall.runtime.badinput import BadInput
    from seawall.runtime.sources import auditd, docker_events, k8s_audit


def TestOneInput(data: bytes) -> None:
    bad = BadInput()
    k8s_audit.AuditParser(bad).parse(data)
    docker_events.parse_record(data, bad)
    assembler = auditd.AuditAssembler(bad)
    list(assembler.feed(data.decode("utf-8", "replace")))
    list(assembler.flush())


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
