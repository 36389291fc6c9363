"""Merge per-layer results bottom-up into the image's inventory.

A file analysed in layer *i* counts only if no upper layer replaced it (same path), deleted it
(a whiteout of it or of a parent directory, or an opaque parent directory) or replaced a parent
directory with a file or symlink. Each surviving package is attributed to the lowest layer from
which the same package was continuously declared at the same path: a dpkg ``status`` file
rewritten by every ``apt-get install`` still credits old packages to the base layer.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

import msgspec

from seawall.image.tarreader import MAX_PATH_LENGTH
from seawall.inventory.analyzer import AnalyzerOutput
from seawall.inventory.layer import LayerResult
from seawall.inventory.purl import package_url
from seawall.model import Ecosystem, LayerInfo, OSInfo, Package

# Lock files list what a project asked for; installed metadata says what is there. When both
# name the same package, the installed record wins so nothing is reported twice.
LOCKFILES = frozenset(
    (
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "composer.lock",
        "Cargo.lock",
        "Gemfile.lock",
    )
)
MAX_SYMLINK_HOPS = 40  # links followed within links, as Linux allows
MAX_PATH_PARTS = 1024  # components one walk may take (PATH_MAX allows 2048 one-letter ones)


class _Layer:
    """A layer's result with sets for fast visibility tests."""

    def __init__(self, info: LayerInfo, result: LayerResult) -> None:
        self.info = info
        self.result = result
        self.entries = set(result.entries)
        self.deleted = set(result.whiteouts)
        self.opaque = set(result.opaque_dirs)

    def hides(self, path: str) -> bool:
        """True if this layer replaces or deletes ``path`` of a lower layer."""
        if path in self.entries or path in self.deleted:
            return True
        end = path.rfind("/")
        while end > 0:
            parent = path[:end]
            if parent in self.deleted or parent in self.opaque or parent in self.entries:
                return True
            end = path.rfind("/", 0, end)
        return "" in self.opaque


class MergedImage:
    """The union of an image's layers, as a container would see it.

    Path resolution is linear in what it walks: the visible symlinks are looked up once,
    each link's resolved target and each resolved directory are remembered, and one walk
    takes at most :data:`MAX_PATH_PARTS` components.
    """

    def __init__(self, layers: Sequence[tuple[LayerInfo, LayerResult]]) -> None:
        self._layers = [_Layer(info, result) for info, result in layers]
        self._links = self._visible_symlinks()
        self._followed: dict[str, str | None] = {}  # link path -> its resolved target
        self._directories: dict[str, str | None] = {}  # directory as named -> resolved

    def _visible_symlinks(self) -> dict[str, str]:
        links: dict[str, str] = {}
        for layer in self._layers:
            for path in layer.result.symlinks.keys() - links.keys():
                target = self.symlink(path)
                if target is not None:
                    links[path] = target
        return links

    def visible(self, path: str, layer: int) -> bool:
        """True if ``path`` as it is in layer ``layer`` survives all upper layers."""
        return not any(upper.hides(path) for upper in self._layers[layer + 1 :])

    def top_entry(self, path: str) -> int | None:
        """Index of the layer whose entry at ``path`` is visible, if any."""
        for i in range(len(self._layers) - 1, -1, -1):
            if path in self._layers[i].entries:
                return i if self.visible(path, i) else None
        return None

    def symlink(self, path: str) -> str | None:
        """The target of the visible symlink at ``path``, if it is one."""
        top = self.top_entry(path)
        if top is None:
            return None
        return self._layers[top].result.symlinks.get(path)

    def resolve(self, path: str) -> str | None:
        """Follow symlinks in every component of ``path`` without ever leaving the root.

        As in a chroot, ``..`` at the root stays at the root and absolute targets start at the
        image root. Returns the final path, or None for a loop, links nested more than
        :data:`MAX_SYMLINK_HOPS` deep, or a walk of more than :data:`MAX_PATH_PARTS`
        components or to a path longer than :data:`MAX_PATH_LENGTH`.
        """
        directory, _, name = path.strip("/").rpartition("/")
        if directory not in self._directories:
            self._directories[directory] = self._walk("", directory, set())
        resolved = self._directories[directory]
        return None if resolved is None else self._walk(resolved, name, set())

    def _walk(self, base: str, relative: str, following: set[str]) -> str | None:
        """``relative`` resolved from the resolved, link-free directory ``base``;
        ``following`` holds the links whose targets are being walked (a loop's trace)."""
        resolved = base
        parts = relative.split("/")
        if len(parts) > MAX_PATH_PARTS:
            return None
        for part in parts:
            if not part or part == ".":
                continue
            if part == "..":
                resolved = resolved.rpartition("/")[0]
                continue
            candidate = f"{resolved}/{part}" if resolved else part
            if len(candidate) > MAX_PATH_LENGTH:
                return None
            if candidate in self._links:
                followed = self._follow(candidate, following)
                if followed is None:
                    return None
                resolved = followed
            else:
                resolved = candidate
        return resolved

    def _follow(self, link: str, following: set[str]) -> str | None:
        """Where the visible symlink ``link`` leads, resolved; remembered either way, so each
        link's target is walked once. A link met again while its own target is being
        walked is a loop (None)."""
        if link in self._followed:
            return self._followed[link]
        if link in following or len(following) >= MAX_SYMLINK_HOPS:
            return None
        target = self._links[link]
        following.add(link)
        base = "" if target.startswith("/") else link.rpartition("/")[0]
        resolved = self._walk(base, target, following)
        following.discard(link)
        self._followed[link] = resolved
        return resolved

    def outputs(self) -> list[tuple[int, str, AnalyzerOutput]]:
        """Every visible analysed file: (layer index, path, output), bottom-up."""
        found = []
        for i, layer in enumerate(self._layers):
            for path, output in layer.result.outputs.items():
                if self.visible(path, i):
                    found.append((i, path, output))
        return found

    def introduced_by(self, package: Package, top: int) -> int:
        """The lowest layer from which ``package`` was declared at its path without a gap."""
        lowest = top
        for i in range(top - 1, -1, -1):
            output = self._layers[i].result.outputs.get(package.path)
            if output is None or not any(p.key == package.key for p in output.packages):
                break
            lowest = i
        return lowest

    def layer_info(self, index: int) -> LayerInfo:
        return self._layers[index].info


def choose_distro(merged: MergedImage) -> OSInfo | None:
    """The image's distribution: the visible release file with the highest precedence."""
    from seawall.inventory.analyzers.os_release import distro_precedence  # loads analyzers

    best: tuple[int, OSInfo] | None = None
    for _, path, output in merged.outputs():
        distro = output.distro
        if distro is None:
            continue
        rank = distro_precedence(path)
        if best is None or rank > best[0]:
            best = (rank, distro)
    return best[1] if best else None


def _npm_projects(installed: Sequence[Package]) -> set[str]:
    """The directories whose ``node_modules`` holds installed npm packages. Their lockfiles
    say what was asked for; what npm did not install there (optional packages of other
    platforms, such as esbuild's 23 binaries but one) is not in the image, so a lockfile
    entry of such a project counts only when it is installed."""
    projects = set()
    for package in installed:
        if package.ecosystem is Ecosystem.NPM:
            head, marker, _ = package.path.partition("node_modules/")
            if marker:
                projects.add(head.rstrip("/"))
    return projects


def merge_layers(
    layers: Sequence[tuple[LayerInfo, LayerResult]],
) -> tuple[OSInfo | None, list[Package], list[str]]:
    """Merge layer results into the distribution, the package list and the warnings."""
    merged = MergedImage(layers)
    distro = choose_distro(merged)
    warnings = [w for _, result in layers for w in result.warnings]

    found: list[tuple[int, Package]] = []
    owned: set[str] = set()
    for index, _, output in merged.outputs():
        for package in output.packages:
            owned.update(package.owned_files)
            if package.ecosystem.is_os and not package.version:
                continue  # a file-ownership record (dpkg .list), not a package
            found.append((index, package))

    # Package managers record paths as packaged (/lib/...); the image may reach them through
    # a symlinked directory (merged /usr), so compare canonical paths.
    owned = {merged.resolve(path) or path for path in owned}
    installed = [p for _, p in found if posixpath.basename(p.path.split("!")[0]) not in LOCKFILES]
    installed_keys = {p.key for p in installed}
    installed_projects = _npm_projects(installed)
    packages: dict[tuple[str, str, str, str], Package] = {}
    for index, package in found:
        if not package.ecosystem.is_os and package.path in owned:
            continue  # installed by the OS package manager: reported as the OS package
        if posixpath.basename(package.path) in LOCKFILES and (
            package.key in installed_keys
            or (package.ecosystem is Ecosystem.NPM
                and posixpath.dirname(package.path) in installed_projects)
        ):  # fmt: skip
            continue
        origin = merged.layer_info(merged.introduced_by(package, index))
        complete = msgspec.structs.replace(
            package,
            purl=package_url(package, distro),
            layer_digest=origin.digest,
            layer_created_by=origin.created_by,
            owned_files=(),
        )
        packages.setdefault((*package.key, package.path), complete)
    ordered = sorted(
        packages.values(), key=lambda p: (p.ecosystem.value, p.name, p.version, p.path)
    )
    return distro, ordered, warnings
