"""A set of ConstraintTemplates and Constraints read from YAML files or directories."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from seawall.errors import InputError
from seawall.policy.gatekeeper.budget import Budget
from seawall.policy.gatekeeper.supervisor import supervisor_for
from seawall.policy.gatekeeper.template import Constraint, ConstraintTemplate
from seawall.policy.manifests import load_manifests
from seawall.policy.objects import KubeObject

TEMPLATE_GROUP = "templates.gatekeeper.sh/"
CONSTRAINT_GROUP = "constraints.gatekeeper.sh/"


@dataclass
class PolicyLibrary:
    templates: dict[str, ConstraintTemplate] = field(default_factory=dict)  # by kind
    constraints: list[Constraint] = field(default_factory=list)

    def add(self, obj: KubeObject) -> bool:
        """Take ``obj`` if it is a template or constraint; False for any other object."""
        where = f"{obj.origin} {obj.kind} {obj.name}".strip()
        if obj.kind == "ConstraintTemplate" and obj.api_version.startswith(TEMPLATE_GROUP):
            template = ConstraintTemplate(obj.raw, where)
            if template.kind in self.templates:
                raise InputError(f"{where}: a template for {template.kind} is defined twice")
            self.templates[template.kind] = template
            return True
        if obj.api_version.startswith(CONSTRAINT_GROUP):
            self.constraints.append(Constraint.parse(obj.raw, where))
            return True
        return False

    def check(self) -> None:
        """Every constraint needs its template, and every template must compile (in a
        worker, within the budget of ``SEAWALL_POLICY_*``)."""
        for constraint in self.constraints:
            if constraint.kind not in self.templates:
                raise InputError(
                    f"constraint {constraint.kind}/{constraint.name} has no ConstraintTemplate",
                    hint="pass the template file or directory too",
                )
        problems = supervisor_for(Budget.from_environment()).check(self.templates.values())
        if problems:
            raise InputError(problems[0])

    @classmethod
    def load(cls, paths: Iterable[str]) -> PolicyLibrary:
        library = cls()
        for obj in load_manifests(paths):
            if not library.add(obj):
                raise InputError(
                    f"{obj.origin}: {obj.kind} {obj.name} is neither a ConstraintTemplate "
                    "nor a Constraint"
                )
        library.check()
        return library
