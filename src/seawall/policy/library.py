"""A set of ConstraintTemplates and Constraints read from YAML files or directories, and the
kinds Gatekeeper's ``Config`` and ``SyncSet`` objects ask to sync (referential data at
admission: :mod:`seawall.admission.synced`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from seawall.errors import InputError
from seawall.policy.gatekeeper.budget import Budget
from seawall.policy.gatekeeper.supervisor import supervisor_for
from seawall.policy.gatekeeper.template import Constraint, ConstraintTemplate
from seawall.policy.manifests import load_manifests
from seawall.policy.objects import KubeObject, as_list, as_mapping

TEMPLATE_GROUP = "templates.gatekeeper.sh/"
CONSTRAINT_GROUP = "constraints.gatekeeper.sh/"
CONFIG_GROUP = "config.gatekeeper.sh/"
SYNCSET_GROUP = "syncset.gatekeeper.sh/"


@dataclass
class PolicyLibrary:
    templates: dict[str, ConstraintTemplate] = field(default_factory=dict)  # by kind
    constraints: list[Constraint] = field(default_factory=list)
    # (group, version, kind) of the objects to sync, from Config and SyncSet objects
    sync: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, obj: KubeObject) -> bool:
        """Take ``obj`` if it is a template, constraint, Config or SyncSet; False for any
        other object."""
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
        if obj.kind == "Config" and obj.api_version.startswith(CONFIG_GROUP):
            sync = as_mapping(as_mapping(obj.raw.get("spec")).get("sync"))
            self.sync |= _kinds(as_list(sync.get("syncOnly")), where)
            return True
        if obj.kind == "SyncSet" and obj.api_version.startswith(SYNCSET_GROUP):
            self.sync |= _kinds(as_list(as_mapping(obj.raw.get("spec")).get("gvks")), where)
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


def _kinds(entries: list[Any], where: str) -> set[tuple[str, str, str]]:
    """The ``{group, version, kind}`` entries of a Config's syncOnly or a SyncSet's gvks."""
    kinds = set()
    for entry in entries:
        entry = as_mapping(entry)
        group, version, kind = (entry.get(k, "") for k in ("group", "version", "kind"))
        if not all(isinstance(v, str) for v in (group, version, kind)) or not (version and kind):
            raise InputError(f"{where}: a synced kind needs a version and a kind: {entry}")
        kinds.add((str(group), str(version), str(kind)))
    return kinds
