"""Read Kubernetes manifests: YAML or JSON, multi-document, ``List`` kinds, directories,
Helm or Kustomize output on stdin.

Manifests are untrusted. Each file must be a regular file within the ``MANIFEST`` cap
(:mod:`seawall.safety.limits`), checked before a byte is parsed; YAML goes through the safe
loader (:mod:`seawall.safety.yaml`: bounded nesting, aliases against a node budget, no
timestamps or tags, at most ``MANIFEST_DOCUMENTS`` documents counted while parsing); JSON
has its nesting and its values (the same budget) checked before msgspec builds anything.
Every problem is one :class:`~seawall.errors.InputError` naming the file and document.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from seawall.errors import InputError, UnsafeInputError
from seawall.policy.objects import KubeObject, normalise
from seawall.safety.files import read_regular
from seawall.safety.jsondoc import JsonError, JsonLimitError, parse_json
from seawall.safety.limits import max_bytes, max_count
from seawall.safety.yaml import MAX_NODES, read_yaml

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# Files a directory of manifests often holds that are not Kubernetes objects.
NOT_MANIFESTS = ("kustomization.yaml", "kustomization.yml", "Chart.yaml", "values.yaml")


def _documents(data: bytes, where: str) -> list[Any]:
    if data.lstrip()[:1] in (b"{", b"["):
        try:
            return [parse_json(data, max_values=MAX_NODES)]
        except JsonLimitError as exc:
            raise UnsafeInputError(f"{where}: {exc}") from None
        except JsonError:
            pass  # YAML flow style also starts with { or [; let the YAML parser decide
    return read_yaml(data, where, max_documents=max_count("MANIFEST_DOCUMENTS"))


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


def parse_manifests(
    text: str | bytes, origin: str, default_namespace: str = ""
) -> list[KubeObject]:
    """Every object in ``text`` (YAML or JSON, multi-document, Lists flattened)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    objects = []
    for number, document in enumerate(_documents(data, origin), start=1):
        for raw in _flatten(document, f"{origin} document {number}"):
            objects.append(normalise(raw, origin, default_namespace))
    return objects


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


def _stdin(limit: int) -> bytes:
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise UnsafeInputError(f"stdin: larger than {limit} bytes")
    return data


def load_manifests(paths: Iterable[str], default_namespace: str = "") -> list[KubeObject]:
    """Objects from files and directories; ``-`` reads stdin (``helm template | ...``)."""
    limit = max_bytes("MANIFEST")
    objects: list[KubeObject] = []
    for name in paths:
        if name == "-":
            objects.extend(parse_manifests(_stdin(limit), "stdin", default_namespace))
            continue
        path = Path(name)
        if not path.exists() and not path.is_symlink():
            raise InputError(f"{name}: no such file or directory")
        for file in _files(path):
            data = read_regular(file, limit)
            objects.extend(parse_manifests(data, str(file), default_namespace))
    return objects
