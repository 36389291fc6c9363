"""Helpers for runtime tests: fixture paths, a detector over the built-in rules."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

from seawall.model import Alert
from seawall.runtime.alerts import AlertFolder, Detector
from seawall.runtime.events import Event
from seawall.runtime.rules.loader import RuleSet, load_rules

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runtime"
K8S = FIXTURES / "k8s-audit"
AUDITD = FIXTURES / "auditd"

BUSYBOX = Path("/bin/busybox")
_BUILTIN: RuleSet | None = None


def builtin_rules() -> RuleSet:
    global _BUILTIN
    if _BUILTIN is None:
        _BUILTIN = load_rules()
    return _BUILTIN


def alerts_for(events: Iterable[Event], rules: RuleSet | None = None) -> list[Alert]:
    detector = Detector(rules or builtin_rules(), AlertFolder(60))
    for event in events:
        detector.process(event)
    return detector.folder.drain()


def rule_ids(alerts: Iterable[Alert]) -> list[str]:
    return sorted(a.rule.id for a in alerts)


@pytest.fixture(scope="session")
def shell_image(build_image, tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    """A FROM-scratch image: static busybox, its applets in /bin, /usr/sbin/sshd -> busybox."""
    context = tmp_path_factory.mktemp("busybox")
    shutil.copy2(BUSYBOX, context / "busybox")
    (context / "Dockerfile").write_text(
        "FROM scratch\n"
        "COPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        'RUN ["/bin/busybox", "sh", "-c", '
        '"mkdir -p /usr/sbin && ln -s /bin/busybox /usr/sbin/sshd"]\n'
    )
    return build_image(context)
