"""Kubernetes' CEL, as ValidatingAdmissionPolicy and Gatekeeper's K8sNativeValidation evaluate
it, on the behaviours cel-python got wrong on the Gatekeeper library (three-argument map,
trailing commas, equality across types, variables that fail but are not used, a failing
messageExpression) and on the extensions templates use (strings, optional types, math,
Kubernetes' regex and list functions)."""

from __future__ import annotations

from typing import Any

import pytest

from seawall.errors import InputError
from seawall.policy.gatekeeper.cel import CelProgram

POD: dict[str, Any] = {
    "metadata": {"name": "web-1", "labels": {"app": "web", "tier": "front"}},
    "spec": {
        "securityContext": {"fsGroup": 2000},
        "containers": [
            {"name": "app", "image": "registry.example.com/shop/app:1.4.2"},
            {"name": "sidecar", "image": "envoyproxy/envoy:v1.31"},
        ],
    },
}


def holds(expression: str, obj: dict[str, Any] = POD, **source: Any) -> bool:
    """Whether the one validation ``expression`` passes on ``obj``."""
    program = CelProgram({"validations": [{"expression": expression}], **source}, "t")
    return program.violations(obj, None, {"operation": "CREATE"}, {}) == []


@pytest.mark.parametrize(
    "expression",
    [
        # map with a filter: the third argument is the transform
        "object.spec.containers.map(c, c.name.startsWith('s'), c.name) == ['sidecar']",
        # trailing commas in literals
        "size({'a': 1, 'b': 2,}) == 2 && size([1, 2, 3,]) == 3",
        # equality across types is false, not an error (fsGroup is an int)
        "object.spec.securityContext.fsGroup != '' && !(object.spec.securityContext.fsGroup == '')",
        # optional types
        "object.?metadata.?labels.?owner.orValue('nobody') == 'nobody'",
        "object.?metadata.?labels.?app.orValue('') == 'web'",
        # the strings extension
        "object.spec.containers[0].image.split('/')[0] == 'registry.example.com'",
        "['a', 'b'].join('-') == 'a-b' && 'WeB'.lowerAscii() == 'web'",
        "'a.b.c'.replace('.', '/') == 'a/b/c' && '  x '.trim() == 'x'",
        # Kubernetes' regex functions on RE2
        "object.spec.containers[0].image.find(':[0-9.]+$') == ':1.4.2'",
        "'a1b22c333'.findAll('[0-9]+') == ['1', '22', '333']",
        "'a1b22c333'.findAll('[0-9]+', 2) == ['1', '22']",
        "object.metadata.name.matches('^web-[0-9]+$')",
        # Kubernetes' list functions and the math extension
        "[1, 2, 3].isSorted() && ![3, 1].isSorted()",
        "[3, 1, 2].sum() == 6 && [3, 1, 2].min() == 1 && [3, 1, 2].max() == 3",
        "math.greatest([1, 5, 2]) == 5",
        # has() on absent fields, macros
        "!has(object.spec.hostNetwork) && object.spec.containers.exists(c, c.name == 'app')",
        "object.spec.containers.all(c, c.image.contains(':'))",
    ],
)
def test_kubernetes_cel_holds(expression: str) -> None:
    assert holds(expression)


def test_a_failing_variable_matters_only_where_it_is_used() -> None:
    variables = [
        {"name": "broken", "expression": "object.spec.nope.size() > 0"},  # no such field
        {"name": "names", "expression": "object.spec.containers.map(c, c.name)"},
    ]
    program = CelProgram(
        {"variables": variables,
         "validations": [{"expression": "variables.names.size() == 2"}]}, "t"
    )  # fmt: skip
    assert program.violations(POD, None, {}, {}) == []
    using = CelProgram(
        {"variables": variables, "validations": [{"expression": "variables.broken"}]}
    )
    with pytest.raises(RuntimeError, match=r"variables\.broken: .*nope"):
        using.violations(POD, None, {}, {})


def test_a_failing_message_expression_falls_back_to_the_message() -> None:
    program = CelProgram(
        {"validations": [{"expression": "false", "message": "no",
                          "messageExpression": "'bad ' + object.spec.nope"}]}, "t"
    )  # fmt: skip
    assert program.violations(POD, None, {}, {}) == [{"msg": "no"}]
    computed = CelProgram(
        {"validations": [{"expression": "false", "message": "no",
                          "messageExpression": "'container ' + object.spec.containers[0].name"}]}
    )  # fmt: skip
    assert computed.violations(POD, None, {}, {}) == [{"msg": "container app"}]


def test_variables_see_gatekeepers_own_and_the_earlier_ones() -> None:
    program = CelProgram(
        {
            "variables": [
                {"name": "images",
                 "expression": "variables.anyObject.spec.containers.map(c, c.image)"},
                {"name": "allowed", "expression": "variables.params.registries"},
                {"name": "bad", "expression":
                    "variables.images.filter(i, !variables.allowed.exists(r, i.startsWith(r)))"},
            ],
            "validations": [{"expression": "size(variables.bad) == 0",
                             "messageExpression": "'not allowed: ' + variables.bad.join(', ')"}],
        },
        "t",
    )  # fmt: skip
    constraint = {"spec": {"parameters": {"registries": ["registry.example.com/"]}}}
    assert program.violations(POD, None, {}, constraint) == [
        {"msg": "not allowed: envoyproxy/envoy:v1.31"}
    ]
    delete = program.violations(None, POD, {"operation": "DELETE"}, constraint)  # anyObject: old
    assert delete == [{"msg": "not allowed: envoyproxy/envoy:v1.31"}]


def test_an_evaluation_error_is_an_error_not_a_pass() -> None:
    with pytest.raises(RuntimeError, match="CEL evaluation failed"):
        holds("object.spec.nope == 1")
    with pytest.raises(RuntimeError, match="divide by zero"):
        holds("1 / (size(object.spec.containers) - 2) == 0")


@pytest.mark.parametrize("expression", ["object.spec.(", "1 == 'a'", "undefinedFunction(object)"])
def test_what_does_not_compile_is_refused_when_the_template_is_read(expression: str) -> None:
    with pytest.raises(InputError, match="does not compile"):
        CelProgram({"validations": [{"expression": expression}]}, "t")
