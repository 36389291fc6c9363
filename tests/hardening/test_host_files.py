"""Sections 1 (audit rules, docker group) and 3 (owners and modes) read through ``--root``:
a constructed host filesystem gives each check a known answer. No Docker Engine needed: the
API checks report ``error`` and these still run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from seawall.hardening.docker.audit import AuditOptions, audit_host
from seawall.hardening.docker.collect import CollectOptions

AUDIT_RULES = """\
# docker rules
-w /usr/bin/dockerd -k docker
-w /etc/docker -p wa -k docker
-a always,exit -F path=/usr/bin/runc -F perm=x -k docker
## -w /etc/default/docker -k docker
"""


def _file(root: Path, path: str, mode: int, text: str = "x", uid: int = 0) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    os.chmod(target, mode)
    os.chown(target, uid, 0)


@pytest.fixture
def host_root(tmp_path: Path) -> Path:
    root = tmp_path / "host"
    _file(root, "/etc/audit/rules.d/docker.rules", 0o640, AUDIT_RULES)
    for binary in ("dockerd", "runc", "containerd"):
        _file(root, f"/usr/bin/{binary}", 0o755)
    _file(root, "/etc/docker/daemon.json", 0o666, '{"icc": false}')  # too open
    _file(root, "/etc/default/docker", 0o644, "", uid=1000)  # wrong owner
    _file(root, "/lib/systemd/system/docker.service", 0o644)
    _file(root, "/etc/docker/certs.d/registry.test/ca.crt", 0o444)
    (root / "etc" / "group").write_text("root:x:0:\n")
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    os.chmod(root / "etc" / "docker", 0o755)
    return root


def _statuses(root: Path, endpoint: str, checks: tuple[str, ...]) -> dict[str, str]:
    options = CollectOptions(endpoint=endpoint, root=root)
    result = audit_host(AuditOptions(collect=options, checks=checks))
    return {f.rule.id: f"{f.status.value}: {f.evidence}" for f in result.findings}


def test_audit_rules_from_rules_files(host_root: Path, tmp_path: Path) -> None:
    got = _statuses(host_root, f"unix://{tmp_path}/none.sock", ("1.1",))
    assert got["1.1.3"].startswith("pass: -w /usr/bin/dockerd -k docker")
    assert got["1.1.6"].startswith("pass: -w /etc/docker -p wa -k docker")
    assert got["1.1.18"].startswith("pass: -a always,exit -F path=/usr/bin/runc")
    assert got["1.1.14"].startswith("fail: no audit rule watches /usr/bin/containerd")
    assert got["1.1.10"].startswith("fail: no audit rule watches /etc/default/docker")
    assert got["1.1.7"].startswith("fail: no audit rule watches /lib/systemd/system/docker")
    assert got["1.1.13"] == "not_applicable: /etc/sysconfig/docker does not exist on this host"
    assert got["1.1.2"].startswith("pass: no docker group")
    assert got["1.1.1"].startswith("error: cannot reach the Docker daemon")


def test_owners_and_modes(host_root: Path, tmp_path: Path) -> None:
    got = _statuses(host_root, f"unix://{tmp_path}/none.sock", ("3",))
    assert got["3.1"] == "pass: /lib/systemd/system/docker.service root:root 644"
    assert got["3.3"] == "not_applicable: no docker.socket unit"
    assert got["3.5"] == "pass: /etc/docker root:root 755"
    assert got["3.7"].startswith("pass: /etc/docker/certs.d/registry.test/ca.crt root:root")
    assert got["3.8"].endswith("ca.crt root:root 444")
    assert got["3.17"].startswith("pass")
    assert got["3.18"] == "fail: /etc/docker/daemon.json root:root 666 (want 644 or stricter)"
    assert got["3.19"] == "fail: /etc/default/docker 1000:root 644 (want root:root)"
    assert got["3.21"].startswith("not_applicable")
    # without the daemon's command line, the TLS file locations cannot be known
    assert got["3.9"].startswith("error: tlscacert is not set where it could be read")


def test_symlinks_stay_inside_the_root(host_root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("x")
    (host_root / "etc" / "sysconfig").mkdir()
    link = host_root / "etc" / "sysconfig" / "docker"
    os.symlink(f"../../../../../../../..{outside}/secret", link)
    got = _statuses(host_root, f"unix://{tmp_path}/none.sock", ("3.21",))
    # the target exists outside the root only: the link was resolved inside it
    assert got["3.21"].startswith("not_applicable")


def test_unreadable_root_reports_errors_not_a_crash(tmp_path: Path) -> None:
    got = _statuses(tmp_path / "missing", f"unix://{tmp_path}/none.sock", ("1.1.3", "2.2"))
    assert got["1.1.3"].startswith(("fail", "not_applicable"))
    assert got["2.2"].startswith("error: icc is not set where it could be read")
