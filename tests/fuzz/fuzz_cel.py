"""Fuzz target: CEL templates' compilation and their regular expressions on RE2
(``seawall.policy.gatekeeper.cel``, ``seawall.safety.regex``).

A pattern compiles or raises RegexError, and a compiled one searches any text; an expression
(arbitrary, or calling ``matches``/``find``/``findAll`` with an arbitrary pattern literal)
compiles or raises InputError. Evaluation errors are policy errors, which the engine reports
for the policy, so only a crash, a hang or a blow-up there is a bug.
"""

from __future__ import annotations

import contextlib
import json
import sys

import atheris

with atheris.instrument_imports():
    from seawall.errors import InputError
    from seawall.policy.gatekeeper.cel import CelProgram
    from seawall.safety.regex import RegexError, compile_re2


def _expression(provider: atheris.FuzzedDataProvider, pattern: str) -> str:
    """An arbitrary expression, or one passing ``pattern`` to a regex function."""
    literal = json.dumps(pattern)  # a CEL string literal (JSON's escapes are CEL's)
    return [
        lambda: provider.ConsumeUnicodeNoSurrogates(200),
        lambda: f"object.metadata.name.matches({literal})",
        lambda: f"find(object.metadata.name, {literal}) != ''",
        lambda: "object.metadata.name.findAll(object.metadata.pattern, 3).size() < 3",
    ][provider.ConsumeIntInRange(0, 3)]()


def TestOneInput(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    pattern = provider.ConsumeUnicodeNoSurrogates(64)
    name = provider.ConsumeUnicodeNoSurrogates(256)
    with contextlib.suppress(RegexError):
        compile_re2(pattern).search(name)
    obj = {"metadata": {"name": name, "pattern": pattern}}
    try:
        program = CelProgram({"validations": [{"expression": _expression(provider, pattern)}]})
    except InputError:
        return
    with contextlib.suppress(Exception):  # a policy error, reported by the engine
        program.violations(obj, None, {}, {})


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
