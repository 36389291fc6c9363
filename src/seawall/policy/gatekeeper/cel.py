"""K8sNativeValidation (CEL) templates evaluated with cel-python.

Gatekeeper evaluates a ValidatingAdmissionPolicy-shaped source: ``variables`` (each sees
the ones before it under ``variables.``), then ``validations`` (``expression`` must be true,
else ``messageExpression`` or ``message``). The activation has ``object``, ``oldObject``,
``request``, ``params`` (the constraint), ``namespaceObject`` and Gatekeeper's own
``variables.anyObject`` (object, or oldObject on DELETE) and ``variables.params`` (the
constraint's parameters). cel-python lacks Kubernetes' string and list extension
functions; the ones templates use are supplied here.

Regular expressions (``matches``, ``find``, ``findAll``) run on RE2, as Kubernetes' CEL
specifies: linear time, so no object can make a pattern backtrack for minutes. A literal
pattern RE2 cannot compile (a backreference, lookaround) fails the template's compilation
rather than every evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import celpy
import lark
from celpy import celtypes
from celpy.adapter import json_to_cel

from seawall.errors import InputError
from seawall.safety.regex import RegexError, compile_re2


def _join(items: Any, separator: Any = "") -> celtypes.StringType:
    return celtypes.StringType(str(separator).join(str(item) for item in items))


def _replace(text: Any, old: Any, new: Any, limit: Any = -1) -> celtypes.StringType:
    return celtypes.StringType(str(text).replace(str(old), str(new), int(limit)))


def _split(text: Any, separator: Any, limit: Any = -1) -> celtypes.ListType:
    parts = str(text).split(str(separator), int(limit) - 1 if int(limit) > 0 else -1)
    return celtypes.ListType([celtypes.StringType(p) for p in parts])


def _index_of(text: Any, sub: Any, start: Any = 0) -> celtypes.IntType:
    if isinstance(text, list):
        return celtypes.IntType(text.index(sub) if sub in text else -1)
    return celtypes.IntType(str(text).find(str(sub), int(start)))


def _substring(text: Any, start: Any, end: Any = None) -> celtypes.StringType:
    value = str(text)
    return celtypes.StringType(value[int(start) : len(value) if end is None else int(end)])


def _string_function(method: Callable[[str], str]) -> Callable[[Any], celtypes.StringType]:
    return lambda text: celtypes.StringType(method(str(text)))


def _matches(text: Any, pattern: Any) -> celtypes.BoolType:
    return celtypes.BoolType(compile_re2(str(pattern)).search(str(text)) is not None)


def _find(text: Any, pattern: Any) -> celtypes.StringType:
    match = compile_re2(str(pattern)).search(str(text))
    return celtypes.StringType(match.group(0) if match else "")


def _find_all(text: Any, pattern: Any, limit: Any = -1) -> celtypes.ListType:
    found: list[celtypes.StringType] = []
    for match in compile_re2(str(pattern)).finditer(str(text)):
        if 0 <= int(limit) <= len(found):
            break
        found.append(celtypes.StringType(match.group(0)))
    return celtypes.ListType(found)


KUBERNETES_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "join": _join,
    "replace": _replace,
    "split": _split,
    "indexOf": _index_of,
    "lastIndexOf": lambda text, sub: celtypes.IntType(str(text).rfind(str(sub))),
    "substring": _substring,
    "lowerAscii": _string_function(str.lower),
    "upperAscii": _string_function(str.upper),
    "trim": _string_function(str.strip),
    "matches": _matches,
    "find": _find,
    "findAll": _find_all,
    "isSorted": lambda items: celtypes.BoolType(list(items) == sorted(items)),
}


REGEX_FUNCTIONS = frozenset({"matches", "find", "findAll"})


def _literal_patterns(tree: lark.Tree[Any]) -> Iterator[lark.Token]:
    """The string literals passed as the pattern of a regex function in ``tree``:
    ``text.matches("p")`` (the first argument) or ``matches(text, "p")`` (the second)."""
    for node in tree.iter_subtrees():
        if node.data == "member_dot_arg":
            name, position = node.children[1], 0
        elif node.data == "ident_arg":
            name, position = node.children[0], 1
        else:
            continue
        arguments = node.children[-1]
        if str(name) not in REGEX_FUNCTIONS or not isinstance(arguments, lark.Tree):
            continue
        if position < len(arguments.children):
            argument = arguments.children[position]
            tokens = list(argument.scan_values(lambda v: isinstance(v, lark.Token)))
            if len(tokens) == 1 and tokens[0].type == "STRING_LIT":
                yield tokens[0]


def _check_patterns(environment: celpy.Environment, tree: lark.Tree[Any]) -> None:
    """Compile every literal regex of ``tree`` with RE2 now (RegexError if one fails)."""
    for token in _literal_patterns(tree):
        pattern = environment.program(environment.compile(str(token))).evaluate({})
        compile_re2(str(pattern))


def _program(environment: celpy.Environment, expression: str, where: str) -> Any:
    try:
        tree = environment.compile(expression)
        _check_patterns(environment, tree)
        return environment.program(tree, functions=KUBERNETES_FUNCTIONS)
    except RegexError as exc:
        raise InputError(f"{where}: CEL expression {expression[:80]!r}: {exc}") from None
    except Exception as exc:  # celpy raises CELParseError and lark errors
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{where}: CEL expression does not compile: {first}") from None


def _cel(value: Any) -> Any:
    """JSON-shaped Python (mappings included) to CEL values."""
    return json_to_cel(dict(value) if isinstance(value, Mapping) else value)


class CelProgram:
    """A compiled K8sNativeValidation source."""

    def __init__(self, source: Mapping[str, Any], name: str = "template") -> None:
        environment = celpy.Environment()
        variables = source.get("variables") or []
        validations = source.get("validations") or []
        if not isinstance(variables, list) or not isinstance(validations, list):
            raise InputError(f"{name}: variables and validations must be lists")
        self._variables = [
            (str(v.get("name")), _program(environment, str(v.get("expression")), name))
            for v in variables
        ]
        self._validations = []
        for validation in validations:
            message = validation.get("messageExpression")
            self._validations.append(
                (
                    _program(environment, str(validation.get("expression")), name),
                    _program(environment, str(message), name) if message else None,
                    str(
                        validation.get("message")
                        or "failed expression: " + str(validation.get("expression"))
                    ),
                )
            )

    def violations(
        self,
        obj: Mapping[str, Any] | None,
        old_object: Mapping[str, Any] | None,
        request: Mapping[str, Any],
        constraint: Mapping[str, Any],
        namespace_object: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Messages of the validations that fail."""
        parameters = (constraint.get("spec") or {}).get("parameters") or {}
        any_object = obj if obj is not None else old_object
        known: dict[celtypes.StringType, Any] = {
            celtypes.StringType("anyObject"): _cel(any_object),
            celtypes.StringType("params"): _cel(parameters),
        }
        activation: dict[str, Any] = {
            "object": _cel(obj),
            "oldObject": _cel(old_object),
            "request": _cel(dict(request)),
            "params": _cel(dict(constraint)),
            "namespaceObject": _cel(namespace_object),
        }
        for name, program in self._variables:
            activation["variables"] = celtypes.MapType(known)
            known[celtypes.StringType(name)] = self._run(program, activation)
        activation["variables"] = celtypes.MapType(known)
        found = []
        for program, message_program, message in self._validations:
            result = self._run(program, activation)
            if not (isinstance(result, bool | celtypes.BoolType) and bool(result)):
                text = str(self._run(message_program, activation)) if message_program else message
                found.append({"msg": text})
        return found

    @staticmethod
    def _run(program: Any, activation: Mapping[str, Any]) -> Any:
        result = program.evaluate(activation)
        if isinstance(result, Exception):
            raise RuntimeError(f"CEL evaluation failed: {result}")
        return result
