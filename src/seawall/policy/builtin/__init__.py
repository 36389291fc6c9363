"""Built-in policies as plug-ins: each check is a function registered with :func:`check`
under the id of its rule in ``seawall/rules/k8s.yaml``.

A check receives a normalised :class:`~seawall.policy.objects.KubeObject` and the
:class:`CheckContext` (settings, image scan lookup) and yields a :class:`Violation` for
every problem: the field that decided it, a message and the JSON Patch that fixes it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from seawall.model import Status
from seawall.policy.objects import KubeObject, json_pointer
from seawall.policy.settings import PolicySettings
from seawall.policy.vulnerabilities import ScanLookup

PatchOp = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem found by a check on one object."""

    evidence: str  # the field and value that decided, e.g. "spec.hostPID=true"
    message: str
    patch: tuple[PatchOp, ...] = ()  # RFC 6902 operations that fix it
    status: Status = Status.FAIL  # WARN when the check could not decide (no scan known)


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What checks may consult besides the object itself."""

    settings: PolicySettings = field(default_factory=PolicySettings)
    scan_lookup: ScanLookup | None = None


CheckFunction = Callable[[KubeObject, CheckContext], Iterable[Violation]]
POD = "pod"  # the kinds selector meaning "any object that embeds a pod spec"


@dataclass(frozen=True, slots=True)
class BuiltinCheck:
    rule_id: str
    kinds: frozenset[str]  # object kinds, or {POD}
    function: CheckFunction
    when: Callable[[KubeObject], bool] | None = None  # narrower than the kinds, if given

    def applies_to(self, obj: KubeObject) -> bool:
        if self.when is not None and not self.when(obj):
            return False
        if "*" in self.kinds or obj.kind in self.kinds:
            return True
        return POD in self.kinds and obj.has_pod

    def run(self, obj: KubeObject, context: CheckContext) -> list[Violation]:
        return list(self.function(obj, context))


CHECKS: dict[str, BuiltinCheck] = {}
_MODULES = ("pss", "practices", "rbac", "images", "controlplane")


def check(
    rule_id: str, *kinds: str, when: Callable[[KubeObject], bool] | None = None
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check for ``rule_id`` on objects of ``kinds`` (default: any pod spec;
    ``"*"``: every object), and only those ``when`` accepts if given (a check that applies
    reports a pass where it finds nothing, so it must not apply where it has no say)."""

    def register(function: CheckFunction) -> CheckFunction:
        if rule_id in CHECKS:
            raise ValueError(f"check {rule_id} registered twice")
        CHECKS[rule_id] = BuiltinCheck(rule_id, frozenset(kinds or (POD,)), function, when)
        return function

    return register


def builtin_checks() -> dict[str, BuiltinCheck]:
    """Every registered check, by rule id (imports the check modules once)."""
    for name in _MODULES:
        importlib.import_module(f"{__name__}.{name}")
    return CHECKS


def add(path: str, value: Any) -> PatchOp:
    """A JSON Patch ``add`` at the dotted ``path`` (``spec.containers[0].x``)."""
    return {"op": "add", "path": json_pointer(path), "value": value}


def set_field(path: str, current: Mapping[str, Any], key: str, value: Any) -> PatchOp:
    """An ``add`` of ``key: value`` into the mapping at ``path``, creating the mapping when
    the object has none (``current`` is what is there now)."""
    if current:
        return add(f"{path}.{key}", value)
    return add(path, {key: value})


def replace(path: str, value: Any) -> PatchOp:
    """A JSON Patch ``replace`` at the dotted ``path``."""
    return {"op": "replace", "path": json_pointer(path), "value": value}


def remove(path: str) -> PatchOp:
    """A JSON Patch ``remove`` at the dotted ``path``."""
    return {"op": "remove", "path": json_pointer(path)}


def annotation_pointer(key: str, pod_template: str = "") -> str:
    """The JSON Pointer of annotation ``key`` (keys hold ``/`` and ``.``)."""
    base = json_pointer(f"{pod_template}.metadata") if pod_template else "/metadata"
    return f"{base}/annotations/{key.replace('~', '~0').replace('/', '~1')}"


def truthy(value: Any) -> bool:
    """Kubernetes booleans as YAML may spell them (only real ``true`` counts)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")
