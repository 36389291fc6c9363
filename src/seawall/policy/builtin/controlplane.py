"""The control plane's configuration, judged on the mirror pods the API server lists in
``kube-system`` (kubeadm's and RKE2's static pods): the CIS Kubernetes Benchmark's checks
of a component's flags, the same implementations ``seawall k8s node-audit`` runs on the
node (:mod:`seawall.hardening.kubernetes.mirror`), grouped into four policies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from seawall.hardening.kubernetes.components import Component
from seawall.hardening.kubernetes.expect import KEEP_OUT
from seawall.hardening.kubernetes.registry import Check
from seawall.model import Status
from seawall.policy.builtin import CheckContext, PatchOp, Violation, add, check, remove, replace
from seawall.policy.objects import KubeObject
from seawall.rules import catalog

ANONYMOUS = ("1.2.1",)
ADMISSION = ("1.2.3", "1.2.9", "1.2.10", "1.2.11", "1.2.12", "1.2.13", "1.2.14")
AUDIT_LOGGING = ("1.2.16", "1.2.17", "1.2.18", "1.2.19", "3.2.1")
_GROUPED = frozenset((*ANONYMOUS, *ADMISSION, *AUDIT_LOGGING))


def _cis_violations(
    obj: KubeObject, check_ids: tuple[str, ...] | None, *, manual_warns: bool = True
) -> Iterator[Violation]:
    """One violation per CIS check (of ``check_ids``, or every other flags-only check when
    None) that fails on the component ``obj`` runs, with the patch of its command line
    that satisfies it; a Manual check's is a warning where ``manual_warns``."""
    from seawall.hardening.kubernetes.audit import CATALOG, load_checks, node_rules
    from seawall.hardening.kubernetes.mirror import assess_component, mirror_component

    component = mirror_component(obj.raw)
    if component is None:
        return
    chosen = check_ids or tuple(i for i in node_rules() if i not in _GROUPED)
    rules = catalog(CATALOG)
    checks = load_checks()
    for check_id, result in assess_component(component, chosen):
        if result.status is not Status.FAIL:
            continue
        rule = rules[check_id]
        manual = manual_warns and rule.mappings.get("assessment") == "Manual"
        yield Violation(
            f"CIS {check_id}: {result.evidence}",
            f"{component.name}: {rule.title} (CIS {check_id})",
            _patch(obj, component, checks[check_id]),
            status=Status.WARN if manual else Status.FAIL,
        )


def _patch(obj: KubeObject, component: Component, cis: Check) -> tuple[PatchOp, ...]:
    """JSON Patch operations on the pod's command line giving each flag the check reads a
    value it accepts (``<value>`` where only the operator knows it: a file's path)."""
    if cis.expect is None:
        return ()
    containers = obj.raw["spec"]["containers"]
    index = next((i for i, c in enumerate(containers) if c.get("name") == component.name), 0)
    operations: list[PatchOp] = []
    for flag in cis.flags:
        current = component.value(flag)
        fixed = cis.expect.remedy(current if current is not None else cis.default)
        if fixed is KEEP_OUT and not cis.expect.holds(cis.default):
            fixed = "<value>"  # removing the flag would not do: its default fails too
        operations += _flag_operations(containers[index], index, flag, fixed)
    return tuple(operations)


def _flag_operations(
    container: dict[str, Any], index: int, flag: str, value: str | None
) -> list[PatchOp]:
    """Replace (or remove, for ``None``) ``--flag=...`` where the container gives it, else
    append it to the command."""
    for field in ("command", "args"):
        for position, word in enumerate(container.get(field) or []):
            if str(word) == f"--{flag}" or str(word).startswith(f"--{flag}="):
                path = f"spec.containers[{index}].{field}[{position}]"
                return [remove(path) if value is None else replace(path, f"--{flag}={value}")]
    if value is None:
        return []
    field = "command" if container.get("command") else "args"
    return [add(f"spec.containers[{index}].{field}[-]", f"--{flag}={value}")]


def _runs(*components: str) -> Callable[[KubeObject], bool]:
    """A ``kube-system`` pod labelled as one of ``components`` (a mirror pod)."""

    def selects(obj: KubeObject) -> bool:
        labels = obj.raw.get("metadata", {}).get("labels") or {}
        return obj.namespace == "kube-system" and labels.get("component") in components

    return selects


API_SERVER = _runs("kube-apiserver")
CONTROL_PLANE = _runs("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")


@check("control-plane-anonymous-auth", "Pod", when=API_SERVER)
def anonymous_auth(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    """CIS leaves 1.2.1 to people (health checks may rely on anonymous requests); this
    policy decides: anonymous requests are refused, or scoped with an
    AuthenticationConfiguration's conditions (which then must be reviewed)."""
    yield from _cis_violations(obj, ANONYMOUS, manual_warns=False)


@check("control-plane-admission-plugins", "Pod", when=API_SERVER)
def admission_plugins(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    yield from _cis_violations(obj, ADMISSION)


@check("control-plane-audit-logging", "Pod", when=API_SERVER)
def audit_logging(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    yield from _cis_violations(obj, AUDIT_LOGGING)


@check("control-plane-configuration", "Pod", when=CONTROL_PLANE)
def configuration(obj: KubeObject, _: CheckContext) -> Iterator[Violation]:
    yield from _cis_violations(obj, None)
