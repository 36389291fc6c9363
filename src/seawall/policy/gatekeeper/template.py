"""ConstraintTemplates (templates.gatekeeper.sh/v1, v1beta1) and their Constraints.

A template may carry several engines (legacy ``rego``/``libs``, or ``code`` entries for
``Rego`` and ``K8sNativeValidation``). Seawall evaluates one, chosen by preference (Rego
first; both runtimes take well under a millisecond a template);
``seawall policy verify --engine all`` checks that every engine agrees.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from seawall.errors import InputError
from seawall.model import Severity
from seawall.policy.gatekeeper.cel import CelProgram
from seawall.policy.gatekeeper.rego import RegoProgram
from seawall.policy.objects import KubeObject, as_mapping
from seawall.policy.request import Review

REGO = "Rego"
CEL = "K8sNativeValidation"
ENGINES = (REGO, CEL)
ENFORCEMENT_ACTIONS = ("deny", "dryrun", "warn")
SEVERITY_KEY = "seawall.dev/severity"
_KEYS = itertools.count(1)


@dataclass(frozen=True)
class Constraint:
    """An instance of a template: what it matches, its parameters, its action."""

    kind: str
    name: str
    match: Mapping[str, Any]
    parameters: Mapping[str, Any]
    enforcement_action: str
    severity: Severity
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def parse(cls, raw: Mapping[str, Any], where: str) -> Constraint:
        metadata, spec = as_mapping(raw.get("metadata")), as_mapping(raw.get("spec"))
        name = metadata.get("name")
        if not isinstance(name, str) or not name:
            raise InputError(f"{where}: constraint has no metadata.name")
        action = str(spec.get("enforcementAction") or "deny")
        if action not in ENFORCEMENT_ACTIONS:
            raise InputError(
                f"{where}: enforcementAction {action!r} is not one of deny, dryrun, warn"
            )
        labels = {**as_mapping(metadata.get("labels")), **as_mapping(metadata.get("annotations"))}
        try:
            severity = Severity.parse(str(labels.get(SEVERITY_KEY, "medium")))
        except ValueError as exc:
            raise InputError(f"{where}: {exc}") from None
        return cls(
            kind=str(raw.get("kind")),
            name=name,
            match=as_mapping(spec.get("match")),
            parameters=as_mapping(spec.get("parameters")),
            enforcement_action=action,
            severity=severity,
            raw=raw,
        )


def _engines(target: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Engine name -> source, from the legacy fields and the ``code`` list."""
    found: dict[str, Mapping[str, Any]] = {}
    if target.get("rego"):
        found[REGO] = {"rego": target["rego"], "libs": target.get("libs") or []}
    for entry in target.get("code") or []:
        engine = as_mapping(entry).get("engine")
        if engine in ENGINES and engine not in found:
            found[str(engine)] = as_mapping(as_mapping(entry).get("source"))
    return found


class ConstraintTemplate:
    """A template and the engines it carries. Its programs are compiled, checked and run in
    worker processes (:mod:`seawall.policy.gatekeeper.supervisor`), from ``raw``: compiling
    is work a hostile template can make endless too. ``key`` names it to the workers."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.key = next(_KEYS)
        self.raw, self.where = raw, where
        metadata, spec = as_mapping(raw.get("metadata")), as_mapping(raw.get("spec"))
        kind = as_mapping(as_mapping(as_mapping(spec.get("crd")).get("spec")).get("names")).get(
            "kind"
        )
        if not isinstance(kind, str) or not kind:
            raise InputError(f"{where}: ConstraintTemplate has no spec.crd.spec.names.kind")
        self.kind = kind
        self.name = str(metadata.get("name") or kind.lower())
        annotations = as_mapping(metadata.get("annotations"))
        self.title = str(annotations.get("metadata.gatekeeper.sh/title") or kind)
        self.description = " ".join(str(annotations.get("description", "")).split())
        targets = spec.get("targets")
        if not isinstance(targets, list) or not targets:
            raise InputError(f"{where}: ConstraintTemplate {self.name} has no targets")
        self._sources = _engines(as_mapping(targets[0]))
        if not self._sources:
            raise InputError(
                f"{where}: template {self.name} has no Rego or K8sNativeValidation code"
            )
        self.engines = tuple(self._sources)
        rego = self._sources.get(REGO, {})
        # Does its Rego read the cluster's other objects (``data.inventory``)? Only then is
        # the referential data sent with its evaluations.
        self.uses_inventory = any(
            "data.inventory" in str(text) for text in (rego.get("rego"), *(rego.get("libs") or []))
        )

    def compile(self) -> dict[str, RegoProgram | CelProgram]:
        """One program per engine (InputError if one does not compile)."""
        programs: dict[str, RegoProgram | CelProgram] = {}
        for engine, source in self._sources.items():
            if engine == REGO:
                libs = source.get("libs") or []
                programs[engine] = RegoProgram(str(source.get("rego")), libs, self.name)
            else:
                programs[engine] = CelProgram(source, self.name)
        return programs

    def engine(self, preference: Sequence[str] = ENGINES) -> str:
        for engine in preference:
            if engine in self.engines:
                return engine
        return self.engines[0]

    def evaluation_input(
        self, obj: KubeObject, constraint: Constraint, review: Review, engine: str
    ) -> tuple[Any, ...]:
        """What ``engine``'s program needs to judge ``obj`` (plain data, so that it can be
        sent to a worker process): Gatekeeper's ``input`` for Rego, the activation's parts
        for CEL."""
        old = review.old_object
        raw_object = dict(obj.raw) if obj.raw else None
        if engine == REGO:
            version = obj.api_version.rpartition("/")[2]
            request = {
                "uid": review.uid,
                "kind": {"group": obj.group, "version": version, "kind": obj.kind},
                "name": obj.name,
                "namespace": obj.namespace,
                "operation": review.operation,
                "userInfo": dict(review.user_info),
                "object": raw_object,
                "oldObject": dict(old) if old else None,
                "dryRun": review.dry_run,
            }
            review_input = {"review": request, "parameters": dict(constraint.parameters)}
            if self.uses_inventory:
                return (review_input, review.inventory)
            return (review_input,)
        request = {
            "operation": review.operation,
            "namespace": obj.namespace,
            "name": obj.name,
            "userInfo": dict(review.user_info),
        }
        namespace_object = dict(review.namespace_object) if review.namespace_object else None
        return (
            raw_object,
            dict(old) if old else None,
            request,
            dict(constraint.raw),
            namespace_object,
        )
