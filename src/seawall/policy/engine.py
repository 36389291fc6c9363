"""The policy engine: evaluate one object against the built-in checks and the Gatekeeper
constraints, giving the same decisions to ``k8s scan``, the cluster listing and the
admission webhook.

A check or template that raises is not a crash: it becomes an ``error`` finding naming the
policy, and the admission server applies its failure policy to it. Templates run in
supervised worker processes (:mod:`seawall.policy.gatekeeper.supervisor`), so one that
exceeds its time or memory budget is such an error too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec

from seawall.model import Finding, Resource, Rule, Status
from seawall.policy.builtin import BuiltinCheck, CheckContext, Violation, builtin_checks
from seawall.policy.discovery import ApiResource, relevant
from seawall.policy.gatekeeper.budget import Budget, BudgetExceeded
from seawall.policy.gatekeeper.match import (
    NamespaceUnknown,
    kinds_match,
    matches,
    needs_namespace,
)
from seawall.policy.gatekeeper.supervisor import Job, Outcome, supervisor_for
from seawall.policy.gatekeeper.template import ENGINES, Constraint
from seawall.policy.inventory import referential_data
from seawall.policy.library import PolicyLibrary
from seawall.policy.objects import KNOWN_KINDS, KubeObject
from seawall.policy.request import Review
from seawall.policy.settings import PolicySettings
from seawall.policy.vulnerabilities import ScanLookup
from seawall.rules import catalog


@dataclass(frozen=True, slots=True)
class Decision:
    """A finding and what to do about it at admission: ``deny``, ``warn`` or ``dryrun``."""

    finding: Finding
    action: str


def _patch_text(violation: Violation) -> str:
    if not violation.patch:
        return ""
    return "JSON patch: " + msgspec.json.encode(violation.patch).decode()


class PolicyEngine:
    """Built-in checks (filtered by settings) plus the constraints of a library."""

    def __init__(
        self,
        settings: PolicySettings | None = None,
        scan_lookup: ScanLookup | None = None,
        library: PolicyLibrary | None = None,
        *,
        builtin: bool = True,
        engine_preference: Sequence[str] = ENGINES,
        budget: Budget | None = None,
    ) -> None:
        self.settings = settings or PolicySettings()
        self.context = CheckContext(self.settings, scan_lookup)
        self.rules = catalog("k8s")
        disabled = set(self.settings.disabled_rules)
        self.checks: list[BuiltinCheck] = (
            [c for rule, c in builtin_checks().items() if rule not in disabled] if builtin else []
        )
        self.library = library or PolicyLibrary()
        self.engine_preference = tuple(engine_preference)
        self.supervisor = supervisor_for(budget or Budget.from_environment())
        self._constraint_rules = {
            (c.kind, c.name): self._constraint_rule(c) for c in self.library.constraints
        }

    def _constraint_rule(self, constraint: Constraint) -> Rule:
        template = self.library.templates[constraint.kind]
        return Rule(
            id=f"{constraint.kind}/{constraint.name}",
            title=template.title,
            severity=constraint.severity,
            description=template.description,
            remediation=f"Change the object to satisfy the {template.title} constraint "
            f"{constraint.name}.",
            mappings={"gatekeeper": template.name},
        )

    def cares_about(self, resource: ApiResource) -> bool:
        """Whether a cluster listing should read this resource: the built-in policies may
        decide on it, or a constraint matches its kind."""
        return relevant(resource) or any(
            kinds_match(c.match.get("kinds"), resource.group, resource.kind)
            for c in self.library.constraints
        )

    def exempt(self, obj: KubeObject) -> bool:
        namespace = obj.name if obj.kind == "Namespace" else obj.namespace
        return bool(namespace) and namespace in self.settings.exempt_namespaces

    def evaluate(
        self,
        obj: KubeObject,
        review: Review | None = None,
        *,
        passes: bool = False,
        given_up: dict[str, str] | None = None,
    ) -> list[Decision]:
        """Every decision on ``obj`` (empty when it complies or its namespace is exempt).
        With ``passes``, each policy that applied and found nothing gives a ``pass`` finding
        too, so that reports can count healthy resources. ``given_up`` (policy id -> why),
        shared by the evaluations of a batch, records templates that ran out of time, which
        the rest of the batch does not wait for again."""
        if self.exempt(obj):
            return []
        review = review or Review()
        decisions: list[Decision] = []
        resource = obj.resource()
        # Built-in checks judge what would be stored; a DELETE stores nothing.
        if (obj.kind in KNOWN_KINDS or obj.has_pod) and review.operation != "DELETE":
            for check in self.checks:
                if not check.applies_to(obj):
                    continue
                rule = self.rules[check.rule_id]
                action = self.settings.action(check.rule_id)
                try:
                    violations = check.run(obj, self.context)
                except Exception as exc:  # a broken check must not take the engine down
                    decisions.append(self._error(rule, resource, exc, action))
                    continue
                if passes and not violations:
                    decisions.append(Decision(self._passed(rule, resource), action))
                for violation in violations:
                    finding = Finding(
                        rule=rule,
                        status=violation.status,
                        resource=resource,
                        evidence=violation.evidence,
                        message=violation.message,
                        remediation=_patch_text(violation),
                    )
                    action_here = "warn" if violation.status is Status.WARN else action
                    decisions.append(Decision(finding, action_here))
        decisions.extend(self._constraints(obj, review, passes, given_up))
        return decisions

    @staticmethod
    def _passed(rule: Rule, resource: Resource) -> Finding:
        return Finding(rule=rule, status=Status.PASS, resource=resource)

    def _constraints(
        self, obj: KubeObject, review: Review, passes: bool, given_up: dict[str, str] | None
    ) -> list[Decision]:
        """The decisions of the constraints that apply to ``obj``; their templates are
        evaluated together, in one batch, by the supervisor's workers."""
        old_labels = []
        if review.old_object:
            metadata = review.old_object.get("metadata") or {}
            old_labels = [{str(k): str(v) for k, v in (metadata.get("labels") or {}).items()}]
        resource = obj.resource()
        applicable: list[tuple[Constraint, Rule, Exception | None]] = []
        jobs: list[Job] = []
        for constraint in self.library.constraints:
            rule = self._constraint_rules[(constraint.kind, constraint.name)]
            if (
                review.namespace_unknown
                and review.namespace_object is None
                and needs_namespace(constraint.match, obj)
            ):
                # The selector can neither match nor miss: say so, and let the caller's
                # failure policy decide (never a silent match or skip).
                rest = {k: v for k, v in constraint.match.items() if k != "namespaceSelector"}
                if matches(rest, obj, None, old_labels):
                    unknown = NamespaceUnknown(obj.namespace, review.namespace_unknown)
                    applicable.append((constraint, rule, unknown))
                continue
            if not matches(constraint.match, obj, review.namespace_object, old_labels):
                continue
            if given_up is not None and rule.id in given_up:
                applicable.append((constraint, rule, RuntimeError(given_up[rule.id])))
                continue
            template = self.library.templates[constraint.kind]
            engine = template.engine(self.engine_preference)
            evaluation_input = template.evaluation_input(obj, constraint, review, engine)
            jobs.append(Job(template, engine, evaluation_input, rule.id))
            applicable.append((constraint, rule, None))
        outcomes = iter(self.supervisor.run(jobs, review.deadline))
        decisions: list[Decision] = []
        for constraint, rule, error in applicable:
            action = constraint.enforcement_action
            outcome: Outcome = error or next(outcomes)
            if isinstance(outcome, Exception):
                decisions.append(self._error(rule, resource, outcome, action))
                if given_up is not None and _out_of_time(outcome):
                    given_up[rule.id] = (
                        f"not evaluated: {rule.id} exceeded its time budget on {resource.label}"
                    )
                continue
            if passes and not outcome:
                decisions.append(Decision(self._passed(rule, resource), action))
            for violation in outcome:
                message = str(violation.get("msg", ""))
                finding = Finding(
                    rule=rule,
                    status=Status.FAIL,
                    resource=resource,
                    evidence=message,
                    message=message,
                )
                decisions.append(Decision(finding, action))
        return decisions

    @staticmethod
    def _error(rule: Rule, resource: Resource, exc: Exception, action: str) -> Decision:
        return Decision(
            Finding(
                rule=rule,
                status=Status.ERROR,
                resource=resource,
                evidence=f"policy error: {type(exc).__name__}: {exc}",
                message=f"policy {rule.id} failed to evaluate",
            ),
            action,
        )

    def findings(self, objects: Iterable[KubeObject], *, passes: bool = False) -> list[Finding]:
        """Findings for a batch of objects (manifests or a cluster listing); the batch's
        Namespaces give namespaceSelectors the labels of their namespace, and the batch is
        the referential data (``data.inventory``) of templates that read it. A template that runs
        out of time on one object is an error on the others without being run again: a
        runaway costs a scan its time budget once, not once per object."""
        batch = list(objects)
        namespaces = {o.name: o.raw for o in batch if o.kind == "Namespace"}
        # the batch is the cluster the templates that read data.inventory compare with
        referential = any(t.uses_inventory for t in self.library.templates.values())
        inventory = referential_data(batch) if referential else None
        given_up: dict[str, str] = {}
        return [
            d.finding
            for obj in batch
            for d in self.evaluate(
                obj,
                Review(namespace_object=namespaces.get(obj.namespace), inventory=inventory),
                passes=passes,
                given_up=given_up,
            )
        ]


def _out_of_time(error: Exception) -> bool:
    return isinstance(error, BudgetExceeded) and error.resource == "time"
