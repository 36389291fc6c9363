"""Read Kubernetes manifests: YAML or JSON, multi-document, ``List`` kinds, directories,
Helm or Kustomize output on stdin.

Manifests are untrusted: sizes are bounded, a YAML alias bomb is refused by counting the
nodes a document expands to, and every problem is one :class:`~seawall.errors.InputError`
naming the file and document.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import msgspec
import yaml

from seawall.errors import InputError, UnsafeInputError
from seawall.policy.objects import KubeObject, normalise

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_NODES_PER_DOCUMENT = 200_000
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# Files a directory of manifests often holds that are not Kubernetes objects.
NOT_MANIFESTS = ("kustomization.yaml", "kustomization.yml", "Chart.yaml", "values.yaml")
MAX_NESTING = 1000
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BRACKETS = re.compile(r"[\[\]{}]")
_LINE_START = re.compile(r"^( *)((?:[-?] +)*)", re.M)


def _check_nesting(text: str, where: str) -> None:
    """Refuse text that could nest deeper than :data:`MAX_NESTING` before libyaml sees it:
    its composer recurses in C and crashes the process on some 20,000 levels. The bound is
    the deepest bracket nesting plus the deepest indentation and block indicators of a line
    (brackets inside strings count too: an over-estimate, never an under-estimate)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(0, depth - 1)
        deepest = max(deepest, depth)
    block = max(
        (len(m.group(1)) + m.group(2).count(" ") for m in _LINE_START.finditer(text)), default=0
    )
    if deepest + block > MAX_NESTING:
        raise UnsafeInputError(f"{where}: nests deeper than {MAX_NESTING} levels")


def _check_bounded(document: Any, where: str) -> None:
    """Refuse a document that expands to too many nodes (YAML aliases can nest)."""
    budget = MAX_NODES_PER_DOCUMENT
    stack = [document]
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            raise UnsafeInputError(
                f"{where}: document expands to more than {MAX_NODES_PER_DOCUMENT} nodes",
                hint="YAML aliases that multiply content are refused",
            )
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _documents(text: str, where: str) -> list[Any]:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return [msgspec.json.decode(text)]
        except msgspec.DecodeError:
            pass  # YAML flow style also starts with { or [; let the YAML parser decide
        except RecursionError:
            raise UnsafeInputError(f"{where}: JSON nests too deeply") from None
    _check_nesting(text, where)
    try:
        return list(yaml.load_all(text, Loader=_LOADER))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{where}:{at} invalid YAML: {problem}") from None
    except RecursionError:
        raise UnsafeInputError(f"{where}: YAML nests too deeply") from None


def _flatten(document: Any, where: str) -> Iterator[Mapping[str, Any]]:
    if document is None:
        return
    if not isinstance(document, Mapping):
        raise InputError(
            f"{where}: not a Kubernetes object (a {type(document).__name__}, not a mapping)"
        )
    kind = document.get("kind")
    if not isinstance(kind, str) or not kind:
        raise InputError(f"{where}: object has no kind", hint="every manifest needs kind")
    if kind == "List" or (kind.endswith("List") and isinstance(document.get("items"), list)):
        items = document.get("items")
        if not isinstance(items, list):
            raise InputError(f"{where}: {kind} has no items list")
        for index, item in enumerate(items):
            yield from _flatten(item, f"{where} item {index}")
        return
    yield document


def parse_manifests(text: str, origin: str, default_namespace: str = "") -> list[KubeObject]:
    """Every object in ``text`` (YAML or JSON, multi-document, Lists flattened)."""
    objects = []
    for number, document in enumerate(_documents(text, origin), start=1):
        where = f"{origin} document {number}"
        _check_bounded(document, where)
        for raw in _flatten(document, where):
            objects.append(normalise(raw, origin, default_namespace))
    return objects


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UnsafeInputError(f"{path}: {size} bytes is larger than {MAX_FILE_BYTES}")
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def _files(path: Path) -> Iterator[Path]:
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if (
                child.is_file()
                and child.suffix.lower() in MANIFEST_SUFFIXES
                and child.name not in NOT_MANIFESTS
            ):
                yield child
    else:
        yield path


def load_manifests(paths: Iterable[str], default_namespace: str = "") -> list[KubeObject]:
    """Objects from files and directories; ``-`` reads stdin (``helm template | ...``)."""
    objects: list[KubeObject] = []
    for name in paths:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                raise UnsafeInputError(f"stdin: larger than {MAX_FILE_BYTES} bytes")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError("stdin: not UTF-8 text") from None
            objects.extend(parse_manifests(text, "stdin", default_namespace))
            continue
        path = Path(name)
        if not path.exists():
            raise InputError(f"{name}: no such file or directory")
        for file in _files(path):
            objects.extend(parse_manifests(_read(file), str(file), default_namespace))
    return objects
