"""Run the CIS Docker Benchmark against a host: collect the facts once, run the selected
checks, and return their Findings with the host's inventory and score."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from seawall.hardening.benchmark import BenchmarkAudit, Result, score, select_checks
from seawall.hardening.docker.collect import CollectOptions, collect
from seawall.hardening.docker.facts import HostFacts
from seawall.hardening.docker.registry import CHECKS, Check
from seawall.hardening.errors import Unassessable
from seawall.model import Finding, Status
from seawall.rules import catalog

CATALOG = "cis-docker"
SECTIONS = tuple(f"seawall.hardening.docker.section{n}" for n in range(1, 8))
_NOT_FOR = {
    "podman": "Podman's Docker-compatible API: there is no dockerd, daemon.json or "
    "docker.service to assess",
    "rootless": "rootless Docker: the daemon's files belong to an unprivileged user, not to "
    "a system-wide install",
}


def load_checks() -> dict[str, Check]:
    """Every registered check by id (importing the section modules registers them)."""
    for module in SECTIONS:
        importlib.import_module(module)
    return CHECKS


def _results(check: Check, facts: HostFacts) -> list[Result]:
    kind = facts.engine_kind
    if (check.dockerd and kind == "podman") or (check.rootful and kind == "rootless"):
        return [Result(Status.NOT_APPLICABLE, _NOT_FOR[kind])]
    if check.api and facts.api_error:
        return [Result(Status.ERROR, facts.api_error)]
    try:
        return list(check.run(facts))
    except Unassessable as exc:
        return [Result(Status.ERROR, exc.reason)]
    except Exception as exc:  # a check's bug must not stop the others
        return [Result(Status.ERROR, f"check failed: {type(exc).__name__}: {exc}")]


def run_checks(facts: HostFacts, selected: Sequence[str]) -> list[Finding]:
    """Findings of the ``selected`` checks, in benchmark order."""
    rules = catalog(CATALOG)
    checks = load_checks()
    findings: list[Finding] = []
    for check_id in selected:
        rule = rules[check_id]
        for result in _results(checks[check_id], facts):
            findings.append(
                Finding(
                    rule=rule,
                    status=result.status,
                    resource=result.resource or facts.host,
                    evidence=result.evidence,
                )
            )
    return findings


def inventory(facts: HostFacts) -> dict[str, Any]:
    """What the host runs: versions, OS, counts, containers no orchestrator manages."""
    if facts.api_error:
        return {"endpoint": facts.endpoint, "error": facts.api_error}
    components = {
        str(c.get("Name")): str(c.get("Version")) for c in facts.version.get("Components") or []
    }
    return {
        "endpoint": facts.endpoint,
        "engine": facts.engine_kind,
        "id": facts.info.get("ID", ""),
        "name": facts.info.get("Name", ""),
        "docker_version": facts.version.get("Version", ""),
        "api_version": facts.version.get("ApiVersion", ""),
        "containerd_version": components.get("containerd", ""),
        "os": facts.info.get("OperatingSystem", ""),
        "kernel": facts.info.get("KernelVersion", ""),
        "architecture": facts.info.get("Architecture", ""),
        "images": len(facts.images),
        "containers_running": facts.running_count,
        "containers_stopped": facts.container_count - facts.running_count,
        "unmanaged_containers": sorted(c.name for c in facts.containers if not c.orchestrated),
        "dockerd_pid": facts.dockerd_pid,
        "daemon_config_file": facts.daemon.config_file,
        "containers": [
            {
                "id": c.id,
                "name": c.name,
                "image": c.image,
                "image_id": str(c.inspect.get("Image") or ""),
                "running": c.running,
                "labels": {str(k): str(v) for k, v in (c.config.get("Labels") or {}).items()},
            }
            for c in facts.containers
            if not c.error
        ],
    }


@dataclass(frozen=True)
class AuditOptions:
    collect: CollectOptions = field(default_factory=CollectOptions)
    checks: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()


class HostAudit(BenchmarkAudit):
    """A CIS Docker Benchmark audit of one host."""


def audit_host(options: AuditOptions) -> HostAudit:
    """Assess the host: one snapshot, every selected check."""
    selected = select_checks(list(catalog(CATALOG)), options.checks, options.skip)
    facts = collect(options.collect)
    findings = run_checks(facts, selected)
    return HostAudit(findings=findings, inventory=inventory(facts), score=score(findings))
