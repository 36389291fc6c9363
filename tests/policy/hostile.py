"""Hostile ConstraintTemplates for the budget tests: one whose Rego allocates without bound
(regorus aborts the process when the allocation fails), one whose Rego runs for minutes,
one whose CEL does, and a benign one."""

from __future__ import annotations

import textwrap

from seawall.policy.library import PolicyLibrary
from seawall.policy.manifests import parse_manifests

HUNGRY_REGO = """package k8shungry
violation[{"msg": m}] {
  m := concat(",", [sprintf("%d", [x]) | x := numbers.range(1, 100000000)[_]])
}
"""
SLOW_REGO = """package k8sslow
violation[{"msg": "never"}] {
  x := numbers.range(1, 2000)[_]
  y := numbers.range(1, 2000)[_]
  z := numbers.range(1, 2000)[_]
  x + y + z < 0
}
"""
# regorus parses nested arrays in time exponential in their depth (16 levels: 1.5 s).
NESTED_REGO = (
    'package k8snested\nviolation[{"msg": m}] { m := ' + "[" * 40 + "1" + "]" * 40 + " }\n"
)
OWNER_REGO = """package k8sowner
violation[{"msg": "needs an owner label"}] { not input.review.object.metadata.labels.owner }
"""
SLOW_CEL = (  # billions of comparisons: minutes even for a compiled runtime
    "object.spec.containers.all(a, object.spec.containers.all(b,"
    " object.spec.containers.all(c, a == b || b == c || true)))"
)
# A copy of a long list per element of it: memory grows by megabytes per step.
HUNGRY_CEL = "object.spec.data.map(a, object.spec.data + object.spec.data).size() > 0"


def constraint_template(kind: str, rego: str = "", cel: str = "", namespace: str = "") -> str:
    """A template with ``rego`` or ``cel`` and its constraint ``c`` on Pods (of
    ``namespace`` only, if given)."""
    if rego:
        code = "rego: |\n" + textwrap.indent(rego, "  ")
    else:
        code = (
            "code:\n- engine: K8sNativeValidation\n  source:\n    validations:\n"
            f"    - expression: {cel!r}\n"
        )
    return (
        "---\napiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\n"
        f"metadata: {{name: {kind.lower()}}}\n"
        f"spec:\n  crd: {{spec: {{names: {{kind: {kind}}}}}}}\n  targets:\n"
        "  - target: admission.k8s.gatekeeper.sh\n"
        + textwrap.indent(code, "    ")
        + "---\napiVersion: constraints.gatekeeper.sh/v1beta1\n"
        f"kind: {kind}\nmetadata: {{name: c}}\n"
        "spec: {match: {kinds: [{apiGroups: [''], kinds: [Pod]}]"
        + (f", namespaces: [{namespace}]" if namespace else "")
        + "}}\n"
    )


HUNGRY = constraint_template("K8sHungry", HUNGRY_REGO)
NESTED = constraint_template("K8sNested", NESTED_REGO)
SLOW = constraint_template("K8sSlow", SLOW_REGO)
SLOW_CEL_TEMPLATE = constraint_template("K8sSlowCel", cel=SLOW_CEL)
HUNGRY_CEL_TEMPLATE = constraint_template("K8sHungryCel", cel=HUNGRY_CEL)
OWNER = constraint_template("K8sOwner", OWNER_REGO)


def library(*documents: str) -> PolicyLibrary:
    lib = PolicyLibrary()
    for obj in parse_manifests("".join(documents), "hostile"):
        lib.add(obj)
    lib.check()
    return lib


def pod(name: str = "p", containers: int = 1, namespace: str = "team", data: int = 0) -> str:
    """A Pod with ``containers`` containers (and a ``spec.data`` list of ``data`` numbers)."""
    listed = ", ".join(f"{{name: c{i}, image: nginx}}" for i in range(containers))
    numbers = f", data: [{', '.join(map(str, range(data)))}]" if data else ""
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
        f"spec: {{containers: [{listed}]{numbers}}}\n"
    )
