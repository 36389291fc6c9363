"""What to do about a vulnerable package: the version to move to and the command to run.

For each package: the lowest version that fixes all of its findings (the highest of their
fixed versions), the package manager's command, the layer and Dockerfile instruction that
brought the package, and whether that layer belongs to the base image, in which case the fix
is to rebuild on a newer base rather than to patch in the Dockerfile.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

import msgspec

from seawall.model import Ecosystem, Inventory, Package, Vulnerability
from seawall.vulndb.ecosystems import query_for
from seawall.vulndb.versions import scheme_for


class Remediation(msgspec.Struct, frozen=True, kw_only=True):
    """How to fix one vulnerable package."""

    package: Package
    vulnerabilities: tuple[str, ...]  # advisory ids this fixes
    fixed_version: str  # lowest version fixing every finding that has a fix ("" if none)
    unfixed: tuple[str, ...] = ()  # ids with no fixed version published
    command: str = ""
    layer_index: int | None = None
    created_by: str = ""
    from_base_image: bool = False
    advice: str = ""


def upgrade_command(package: Package, version: str) -> str:
    """The package manager's command that installs ``version`` (or the latest) of it."""
    name = package.name
    quoted = shlex.quote
    match package.ecosystem:
        case Ecosystem.DEB:
            return f"apt-get install --only-upgrade {quoted(name)}"
        case Ecosystem.APK:
            return f"apk add --upgrade {quoted(name)}"
        case Ecosystem.RPM:
            return f"dnf update {quoted(name)}"
        case Ecosystem.PYPI:
            return f"pip install {quoted(f'{name}>={version}')}"
        case Ecosystem.NPM:
            return f"npm install {quoted(f'{name}@{version}')}"
        case Ecosystem.GOLANG:
            if name == "stdlib":
                return f"rebuild with Go {version} or later"
            module_version = version.removeprefix("v")
            return f"go get {quoted(f'{name}@v{module_version}')}"
        case Ecosystem.MAVEN:
            return f"use {name}:{version} in the build (pom.xml / build.gradle)"
        case Ecosystem.GEM:
            return f"bundle update {quoted(name)} (>= {version})"
        case Ecosystem.CARGO:
            return f"cargo update -p {quoted(name)} --precise {quoted(version)}"
        case Ecosystem.COMPOSER:
            return f"composer require {quoted(f'{name}:^{version}')}"
        case Ecosystem.NUGET:
            return f"dotnet add package {quoted(name)} --version {quoted(version)}"


def _group(vulnerabilities: Sequence[Vulnerability]) -> dict[tuple[str, ...], list[Vulnerability]]:
    grouped: dict[tuple[str, ...], list[Vulnerability]] = {}
    for vulnerability in vulnerabilities:
        package = vulnerability.package
        grouped.setdefault((*package.key, package.path), []).append(vulnerability)
    return grouped


def remediate(inventory: Inventory, vulnerabilities: Sequence[Vulnerability]) -> list[Remediation]:
    """One remediation per vulnerable package, worst first."""
    image = inventory.image
    layer_of = {layer.digest: layer.index for layer in image.layers}
    plans: list[tuple[int, Remediation]] = []
    for found in _group(vulnerabilities).values():
        package = found[0].package
        fixes = [v.fixed_version for v in found if v.fixed]
        unfixed = tuple(v.advisory.id for v in found if not v.fixed)
        query = query_for(package, inventory.distro)
        fixed_version = ""
        if fixes and query is not None:
            fixed_version = max(fixes, key=scheme_for(query.ecosystem).key)
        layer = layer_of.get(package.layer_digest)
        from_base = layer is not None and layer < image.base_layers
        plans.append(
            (
                max(v.severity for v in found),
                Remediation(
                    package=package,
                    vulnerabilities=tuple(v.advisory.id for v in found),
                    fixed_version=fixed_version,
                    unfixed=unfixed,
                    command=upgrade_command(package, fixed_version) if fixed_version else "",
                    layer_index=layer,
                    created_by=package.layer_created_by,
                    from_base_image=from_base,
                    advice=_advice(package, fixed_version, unfixed, from_base),
                ),
            )
        )
    plans.sort(key=lambda p: (-p[0], p[1].package.name))
    return [plan for _, plan in plans]


def _advice(package: Package, fixed: str, unfixed: tuple[str, ...], from_base: bool) -> str:
    if not fixed:
        return "no fixed version published yet; watch the advisory or remove the package"
    text = f"upgrade {package.name} {package.version} -> {fixed}"
    if unfixed:
        text += f" (fixes all but {len(unfixed)}, which have no fix yet)"
    if from_base:
        text += "; it comes from the base image: rebuild on a newer base image"
    return text
