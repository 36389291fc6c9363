"""npm packages: installed ``node_modules`` packages and the lockfiles of npm, Yarn and pnpm.

* ``node_modules/<name>/package.json`` and ``node_modules/@scope/<name>/package.json``: one
  installed package each (pnpm's ``node_modules/.pnpm/<id>/node_modules/<name>/`` matches too).
  An application's own ``package.json`` (not directly inside ``node_modules``) declares no
  installed package and is ignored.
* ``package-lock.json`` / ``npm-shrinkwrap.json``, lockfileVersion 1 (the nested
  ``dependencies`` tree), 2 and 3 (the flat ``packages`` map). Entries marked ``"dev": true``
  are left out: they are not installed by ``npm ci --omit=dev``, the usual production image
  build; devOptional entries are kept. Workspace folders and ``link`` entries are the
  project's own code and are skipped.
* ``yarn.lock``: Yarn 1 (its own indented format) and Yarn 2+ "berry" (YAML), read with one
  line parser that only looks at each entry's key and its ``version``/``resolution`` fields;
  neither format records dev-only packages, so every entry is reported. Berry entries are
  reported only for the ``npm:`` protocol (workspaces, patches, links and git are not
  registry packages).
* ``pnpm-lock.yaml``: lockfile formats 5.x (``/name/1.0.0_peer``), 6.x (``/name@1.0.0(peer)``)
  and 9.x (``name@1.0.0``). Packages marked ``dev: true`` (5.x, 6.x) are left out; 9.x no
  longer marks them, so the production set is computed by walking ``snapshots`` from the
  importers' ``dependencies`` and ``optionalDependencies``.

Lockfiles inside ``node_modules`` (npm's hidden ``.package-lock.json``, the lockfiles some
packages ship) are ignored: the packages they name are not necessarily installed. When a
project's ``node_modules`` is in the image, its lockfile's entries count only where they are
installed (:func:`seawall.inventory.merge.merge_layers`: npm skips the optional packages of
other platforms, such as esbuild's binaries for every system but one).
Licences come from ``package.json`` (``license``: string or ``{"type"}``; old ``licenses``
arrays) and from v2/v3 package-lock entries, which npm fills from the same field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from seawall.inventory.analyzer import Analyzer, AnalyzerOutput, register
from seawall.inventory.analyzers._lang import (
    license_list,
    load_json,
    package,
    text,
    unique,
)
from seawall.model import Ecosystem, Package
from seawall.safety.yaml import load_yaml

_LOCAL_PROTOCOLS = ("file:", "link:", "portal:", "workspace:")


def _in_node_modules(path: str) -> bool:
    return path.startswith("node_modules/") or "/node_modules/" in path


def split_spec(spec: str) -> tuple[str, str]:
    """``@scope/name@range`` -> (``@scope/name``, ``range``); ``npm:`` aliases are followed.

    The range is empty when the spec has none. ``alias@npm:real@1.0.0`` names ``real``.
    """
    at = spec.find("@", 1)
    if at < 0:
        return spec, ""
    name, rest = spec[:at], spec[at + 1 :]
    if rest.startswith("npm:"):
        target = rest[4:]
        at = target.find("@", 1)
        if at > 0:
            return target[:at], target[at + 1 :]
    return name, rest


def _npm_version(name: str, version: str) -> tuple[str, str] | None:
    """The registry (name, version) of a package-lock v1 entry, or None for git/file/URL ones."""
    if version.startswith("npm:"):
        return split_spec(version[4:])
    if not version or ":" in version or "/" in version:
        return None
    return name, version


@register
class NpmPackageJsonAnalyzer(Analyzer):
    """One installed npm package from its ``package.json`` inside ``node_modules``."""

    name = "npm-package-json"
    basenames = frozenset({"package.json"})

    def accepts(self, path: str) -> bool:
        parts = path.split("/")
        if len(parts) >= 3 and parts[-3] == "node_modules" and not parts[-2].startswith("@"):
            return not parts[-2].startswith(".")
        return len(parts) >= 4 and parts[-4] == "node_modules" and parts[-3].startswith("@")

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        manifest = load_json(data)
        if not isinstance(manifest, dict):
            raise ValueError("package.json is not a JSON object")
        name, version = text(manifest.get("name")), text(manifest.get("version"))
        if not name or not version:
            raise ValueError("package.json without name or version")
        licenses = license_list(manifest.get("license")) or license_list(manifest.get("licenses"))
        return AnalyzerOutput(packages=[package(Ecosystem.NPM, name, version, path, licenses)])


@register
class NpmLockAnalyzer(Analyzer):
    """Packages of an npm ``package-lock.json`` or ``npm-shrinkwrap.json`` (v1, v2, v3)."""

    name = "npm-lock"
    basenames = frozenset({"package-lock.json", "npm-shrinkwrap.json"})

    def accepts(self, path: str) -> bool:
        return not _in_node_modules(path)

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        lock = load_json(data)
        if not isinstance(lock, dict):
            raise ValueError("lockfile is not a JSON object")
        packages = lock.get("packages")
        if isinstance(packages, dict):
            found = _lock_packages(path, packages)
        else:
            found = _lock_dependencies(path, lock.get("dependencies"))
        return AnalyzerOutput(packages=unique(found))


def _lock_packages(path: str, packages: dict[str, Any]) -> Iterator[Package]:
    """Lockfile v2/v3: keys are install paths such as ``node_modules/a/node_modules/@s/b``."""
    for key, entry in packages.items():
        _, marker, installed_as = key.rpartition("node_modules/")
        if not marker or not isinstance(entry, dict) or entry.get("dev") is True:
            continue
        if entry.get("link") is True:
            continue
        name = text(entry.get("name")) or installed_as
        version = text(entry.get("version"))
        if name and version:
            yield package(Ecosystem.NPM, name, version, path, license_list(entry.get("license")))


def _lock_dependencies(path: str, dependencies: object) -> Iterator[Package]:
    """Lockfile v1: a tree of ``dependencies`` objects, walked with an explicit stack."""
    stack = [dependencies]
    while stack:
        level = stack.pop()
        if not isinstance(level, dict):
            continue
        for name, entry in level.items():
            if not isinstance(entry, dict):
                continue
            stack.append(entry.get("dependencies"))
            if entry.get("dev") is True:
                continue
            resolved = _npm_version(name, text(entry.get("version")))
            if resolved and resolved[0] and resolved[1]:
                yield package(Ecosystem.NPM, resolved[0], resolved[1], path)


@register
class YarnLockAnalyzer(Analyzer):
    """Packages of a ``yarn.lock`` (Yarn 1 and Yarn 2+)."""

    name = "yarn-lock"
    basenames = frozenset({"yarn.lock"})

    def accepts(self, path: str) -> bool:
        return not _in_node_modules(path)

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        entries = list(iter_yarn_entries(data.read().decode("utf-8", "replace")))
        berry = any(key == "__metadata" for key, _ in entries)
        found: list[Package] = []
        for key, fields in entries:
            resolved = _berry_entry(fields) if berry else _classic_entry(key, fields)
            if resolved:
                found.append(package(Ecosystem.NPM, resolved[0], resolved[1], path))
        return AnalyzerOutput(packages=unique(found))


def iter_yarn_entries(content: str) -> Iterator[tuple[str, dict[str, str]]]:
    """(key, fields) of every top-level entry; fields are the two-space-indented scalars.

    Works for both formats: ``  version "1.0.0"`` (Yarn 1) and ``  version: 1.0.0`` (berry).
    """
    key: str | None = None
    fields: dict[str, str] = {}
    for line in content.splitlines():
        if not line or line[0] == "#":
            continue
        if line[0] not in " \t":
            if key is not None:
                yield key, fields
            key, fields = line.rstrip().rstrip(":").strip('"'), {}
        elif key is not None and line.startswith("  ") and line[2:3] not in (" ", "\t"):
            name, _, value = line.strip().partition(" ")
            fields[name.rstrip(":").strip('"')] = value.strip().strip('"')
    if key is not None:
        yield key, fields


def _classic_entry(key: str, fields: dict[str, str]) -> tuple[str, str] | None:
    """Yarn 1: the name is in the key (``"@s/a@^1.0.0", "@s/a@^1.1.0"``), the version a field."""
    name, spec = split_spec(key.split(",", 1)[0].strip().strip('"'))
    version = fields.get("version", "")
    if not name or not version or spec.startswith(_LOCAL_PROTOCOLS):
        return None
    return name, version


def _berry_entry(fields: dict[str, str]) -> tuple[str, str] | None:
    """Yarn 2+: ``resolution: "@s/a@npm:1.0.0"``; only the npm protocol is a registry package."""
    name, marker, _ = fields.get("resolution", "").rpartition("@npm:")
    version = fields.get("version", "")
    if not marker or not name or not version:
        return None
    return name, version


@register
class PnpmLockAnalyzer(Analyzer):
    """Packages of a ``pnpm-lock.yaml`` (lockfile formats 5.x, 6.x and 9.x)."""

    name = "pnpm-lock"
    basenames = frozenset({"pnpm-lock.yaml"})

    def accepts(self, path: str) -> bool:
        return not _in_node_modules(path)

    def analyze(self, path: str, data: BinaryIO) -> AnalyzerOutput:
        # versions stay text (``lockfileVersion: 5.4``); pnpm writes no aliases (js-yaml's
        # noRefs); a bad document is a YamlError (a ValueError)
        lock_documents = load_yaml(data.read(), strings=True, aliases=False)
        documents = [d for d in lock_documents if isinstance(d, dict)]
        if not documents:
            raise ValueError("pnpm lockfile is not a YAML mapping")
        lock = documents[-1]
        packages = lock.get("packages")
        if not isinstance(packages, dict):
            return AnalyzerOutput()
        major = _major(lock.get("lockfileVersion"))
        production = _production_keys(lock) if major >= 9 else None
        found: list[Package] = []
        for key, entry in packages.items():
            info = entry if isinstance(entry, dict) else {}
            if info.get("dev") is True or not isinstance(key, str):
                continue
            if production is not None and _strip_peers(key) not in production:
                continue
            resolved = _pnpm_name_version(key, info, major)
            if resolved:
                found.append(package(Ecosystem.NPM, resolved[0], resolved[1], path))
        return AnalyzerOutput(packages=unique(found))


def _major(version: object) -> int:
    match = re.match(r"\d+", str(version))
    return int(match.group()) if match else 0


def _strip_peers(key: str) -> str:
    """``/a@1.0.0(b@2.0.0)`` -> ``/a@1.0.0``: peer-dependency suffixes of pnpm 6+ keys."""
    paren = key.find("(")
    return key if paren < 0 else key[:paren]


def _pnpm_name_version(key: str, info: dict[Any, Any], major: int) -> tuple[str, str] | None:
    """Name and version of a ``packages`` entry; explicit name/version fields win (tarballs)."""
    name, version = text(info.get("name")), text(info.get("version"))
    if name and version:
        return name, version
    if not key.startswith("/") and major < 9:
        return None  # a git or tarball dependency without name/version fields
    spec = _strip_peers(key.removeprefix("/"))
    if major < 6:
        name, _, version = spec.rpartition("/")
        version = version.split("_", 1)[0]
    else:
        name, version = split_spec(spec)
    if not name or not version or ":" in version or "/" in version:
        return None
    return name, version


def _production_keys(lock: dict[Any, Any]) -> set[str] | None:
    """pnpm 9: the ``packages`` keys reachable from non-dev importer dependencies.

    None (report everything) when the file has no importers. Each snapshot is visited once,
    so the walk is linear in the size of the file.
    """
    importers, snapshots = lock.get("importers"), lock.get("snapshots")
    if not isinstance(importers, dict) or not isinstance(snapshots, dict):
        return None
    pending: list[str] = []
    for importer in importers.values():
        if not isinstance(importer, dict):
            continue
        for group in ("dependencies", "optionalDependencies"):
            deps = importer.get(group)
            if isinstance(deps, dict):
                for name, spec in deps.items():
                    version = spec.get("version") if isinstance(spec, dict) else spec
                    pending.append(_snapshot_key(name, version))
    visited: set[str] = set()
    while pending:
        key = pending.pop()
        if key in visited:
            continue
        visited.add(key)
        snapshot = snapshots.get(key)
        if not isinstance(snapshot, dict):
            continue
        for group in ("dependencies", "optionalDependencies"):
            deps = snapshot.get(group)
            if isinstance(deps, dict):
                pending.extend(_snapshot_key(name, version) for name, version in deps.items())
    return {_strip_peers(key) for key in visited}


def _snapshot_key(name: object, version: object) -> str:
    """The snapshot key a dependency points at: ``name@version``, or the alias target."""
    version = str(version)
    return version if _strip_peers(version).find("@", 1) > 0 else f"{name}@{version}"
