"""The control plane as the API server lists it. kubeadm's (and RKE2's) control plane runs
as static pods, which the API server shows as mirror pods in ``kube-system`` with their full
command lines; the benchmark's checks that read nothing but a component's flags judge them
there, from a cluster scan, without access to the node."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from seawall.hardening.benchmark import Result
from seawall.hardening.errors import NotApplicable, Unassessable
from seawall.hardening.hostfiles import HostFiles
from seawall.hardening.kubernetes.audit import load_checks
from seawall.hardening.kubernetes.components import STATIC_PODS, Component, component_of_pod
from seawall.hardening.kubernetes.facts import NodeFacts, Role
from seawall.hardening.kubernetes.layout import PATHS, Layout


def mirror_component(pod: Any) -> Component | None:
    """The control-plane component a ``kube-system`` pod runs (by its ``component`` label,
    as kubeadm labels its static pods), None for any other pod or an unreadable one."""
    metadata = pod.get("metadata") if isinstance(pod, dict) else None
    if not isinstance(metadata, dict) or metadata.get("namespace") != "kube-system":
        return None
    labels = metadata.get("labels")
    name = labels.get("component") if isinstance(labels, dict) else None
    if name not in STATIC_PODS:
        return None
    try:
        return component_of_pod(pod, str(name), f"pod kube-system/{metadata.get('name')}")
    except Unassessable:
        return None


def assess_component(component: Component, check_ids: Iterable[str]) -> list[tuple[str, Result]]:
    """The results of the flags-only checks among ``check_ids`` that judge ``component``
    (the others do not apply to it: they are left out)."""
    facts = NodeFacts(
        files=HostFiles(Path(os.devnull)),  # never read: flags-only checks read flags only
        layout=Layout.UNKNOWN,
        layout_evidence="the cluster's API",
        paths=PATHS[Layout.UNKNOWN],
        role=Role.CONTROL_PLANE,
        role_evidence=f"{component.name} runs as {component.source}",
        components={component.name: component},
        processes_seen=True,
    )
    checks = load_checks()
    found: list[tuple[str, Result]] = []
    for check_id in check_ids:
        check = checks[check_id]
        if not check.flags_only:
            continue
        try:
            found += [(check_id, result) for result in check.results(facts)]
        except (NotApplicable, Unassessable):
            continue  # another component's check
    return found
