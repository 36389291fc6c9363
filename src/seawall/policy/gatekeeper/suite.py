"""Gatekeeper-library test suites (gator's ``Suite`` format), as published.

A suite lists tests (a template and a constraint) and cases (an object, or an
AdmissionReview for UPDATE/DELETE, with assertions). An assertion counts the violations
whose message matches its ``message`` regex (RE2) (all of them without one) and compares the
count with ``violations``: ``yes`` (at least one, the default), ``no`` or a number.
Every engine the template carries is checked unless one is chosen. A case's ``inventory``
files are the cluster's other objects, given to templates as ``data.inventory``
(:mod:`seawall.policy.inventory`).

A suite is input like any other: it may name only files inside its own directory (no
absolute paths, no ``..``, no symlink leading out), each a regular file of bounded size
(a FIFO or device is refused, never read), and read with the safe YAML loader.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from seawall.errors import InputError, UnsafeInputError
from seawall.policy.engine import PolicyEngine
from seawall.policy.inventory import Inventory, referential_data
from seawall.policy.library import PolicyLibrary
from seawall.policy.objects import as_mapping, normalise
from seawall.policy.request import Review
from seawall.safety.files import read_regular
from seawall.safety.regex import RegexError, compile_re2
from seawall.safety.yaml import YamlError, load_yaml

MAX_FILE_BYTES = 16 * 1024 * 1024  # a suite, template, constraint or case object


@dataclass(frozen=True, slots=True)
class CaseResult:
    suite: str
    test: str
    case: str
    engine: str
    passed: bool
    detail: str = ""  # why it failed, or "skipped"

    @property
    def label(self) -> str:
        return f"{self.suite} / {self.test} / {self.case} [{self.engine}]"


def _expected(value: Any) -> tuple[str, int]:
    """("min", 1) for yes, ("eq", 0) for no, ("eq", n) for a count."""
    if value is None or value is True or (isinstance(value, str) and value.lower() == "yes"):
        return "min", 1
    if value is False or (isinstance(value, str) and value.lower() == "no"):
        return "eq", 0
    if isinstance(value, int) and value >= 0:
        return "eq", value
    if isinstance(value, str) and value.isdigit():
        return "eq", int(value)
    raise InputError(f"assertion violations {value!r} is not yes, no or a count")


def check_assertions(messages: Sequence[str], assertions: Any) -> str:
    """The first failed assertion as a sentence, or "" when all hold."""
    for assertion in assertions if isinstance(assertions, list) else []:
        assertion = as_mapping(assertion)
        pattern = assertion.get("message")
        try:
            regex = compile_re2(str(pattern)) if pattern is not None else None
        except RegexError as exc:
            raise InputError(f"assertion message: {exc}") from None
        matching = [m for m in messages if regex is None or regex.search(m)]
        mode, count = _expected(assertion.get("violations"))
        if (mode == "min" and len(matching) < count) or (mode == "eq" and len(matching) != count):
            wanted = f"at least {count}" if mode == "min" else str(count)
            about = f" matching {pattern!r}" if pattern is not None else ""
            return f"expected {wanted} violation(s){about}, got {len(matching)}" + (
                f": {messages}" if messages else ""
            )
    return ""


def _documents(path: Path) -> list[Mapping[str, Any]]:
    """The YAML documents of the regular file ``path``, each a mapping."""
    try:
        documents = load_yaml(read_regular(path, MAX_FILE_BYTES))
    except YamlError as exc:
        raise InputError(f"{path}: {exc}") from None
    found = [d for d in documents if d is not None]
    if not all(isinstance(d, dict) for d in found):
        raise InputError(f"{path}: every document must be a mapping")
    return found


def _list(parent: Mapping[str, Any], field: str, suite: Path) -> list[Any]:
    """``parent[field]``, a list (or nothing)."""
    value = parent.get(field) or []
    if not isinstance(value, list):
        raise InputError(f"{suite}: {field} must be a list")
    return value


def _inside(base: Path, name: Any, suite: Path) -> Path:
    """``name``, a path the suite at ``suite`` gives, within the suite's directory ``base``."""
    if not isinstance(name, str) or not name or "\0" in name:
        raise InputError(f"{suite}: a test needs template, constraint and case object paths")
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts:
        raise UnsafeInputError(f"{suite}: {name!r} is outside the suite's directory")
    path = base / relative
    if not path.resolve().is_relative_to(base.resolve()):
        raise UnsafeInputError(f"{suite}: {name!r} leads outside the suite's directory")
    return path


def _library(paths: Sequence[Path]) -> PolicyLibrary:
    library = PolicyLibrary()
    for path in paths:
        for raw in _documents(path):
            obj = normalise(raw, str(path))
            if not library.add(obj):
                raise InputError(
                    f"{path}: {obj.kind} {obj.name} is neither a ConstraintTemplate "
                    "nor a Constraint"
                )
    library.check()
    return library


def _case_object(path: Path) -> tuple[Mapping[str, Any], Review]:
    objects = _documents(path)
    if len(objects) != 1:
        raise InputError(f"{path}: a case object must be one document, found {len(objects)}")
    raw = objects[0]
    if raw.get("kind") != "AdmissionReview":
        return raw, Review()
    request = as_mapping(raw.get("request"))
    old = request.get("oldObject")
    review = Review(
        operation=str(request.get("operation") or "CREATE"),
        old_object=old if isinstance(old, Mapping) else None,
        user_info=as_mapping(request.get("userInfo")),
        uid=str(request.get("uid") or ""),
    )
    obj = request.get("object")
    return (obj if isinstance(obj, Mapping) else (old or {})), review


def _inventory(base: Path, case: Mapping[str, Any], suite: Path) -> Inventory:
    """The referential data of a case: the objects of its ``inventory`` files."""
    return referential_data(
        normalise(document)
        for name in _list(case, "inventory", suite)
        for document in _documents(_inside(base, name, suite))
    )


def run_suite(path: Path, engine: str | None = None) -> Iterator[CaseResult]:
    """Results of every case of the suite at ``path``, per engine."""
    documents = _documents(path)
    if len(documents) != 1 or documents[0].get("kind") != "Suite":
        raise InputError(f"{path}: not a gator Suite (kind: Suite)")
    suite = documents[0]
    suite_name = str(as_mapping(suite.get("metadata")).get("name") or path.parent.name)
    base = path.parent
    for test in _list(suite, "tests", path):
        test = as_mapping(test)
        test_name = str(test.get("name", "test"))
        library = _library(
            [_inside(base, test.get(name), path) for name in ("template", "constraint")]
        )
        if len(library.templates) != 1 or len(library.constraints) != 1:
            raise InputError(f"{path}: test {test_name} needs one template and one constraint")
        template = next(iter(library.templates.values()))
        engines = [engine] if engine else list(template.engines)
        for case in _list(test, "cases", path):
            case = as_mapping(case)
            case_name = str(case.get("name", "case"))
            if test.get("skip") or case.get("skip"):
                for name in engines:
                    yield CaseResult(suite_name, test_name, case_name, name, True, "skipped")
                continue
            raw, review = _case_object(_inside(base, case.get("object"), path))
            if case.get("inventory"):
                review = replace(review, inventory=_inventory(base, case, path))
            for name in engines:
                if name not in template.engines:
                    raise InputError(f"template {template.name} has no {name} engine")
                policy = PolicyEngine(library=library, builtin=False, engine_preference=[name])
                decisions = policy.evaluate(normalise(raw), review)
                errors = [
                    d.finding.evidence for d in decisions if d.finding.status.value == "error"
                ]
                if errors:
                    yield CaseResult(suite_name, test_name, case_name, name, False, errors[0])
                    continue
                messages = [d.finding.message for d in decisions]
                failure = check_assertions(messages, case.get("assertions"))
                yield CaseResult(suite_name, test_name, case_name, name, not failure, failure)
