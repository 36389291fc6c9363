"""Images: only from trusted registries; only scanned images without unresolved findings
at or above the configured severity (through the :mod:`seawall.policy.vulnerabilities`
lookup; the check warns when no scan is known)."""

from __future__ import annotations

from collections.abc import Iterator

from seawall.errors import InputError
from seawall.image.reference import parse_reference
from seawall.model import Status
from seawall.policy.builtin import CheckContext, Violation, check, replace
from seawall.policy.objects import KubeObject


def _normalised(image: str) -> str:
    """``nginx`` -> ``docker.io/library/nginx``: prefixes compare on the full name."""
    try:
        reference = parse_reference(image)
    except InputError:
        return image
    return f"{reference.registry}/{reference.repository}"


@check("image-trusted-registry")
def trusted_registry(obj: KubeObject, context: CheckContext) -> Iterator[Violation]:
    trusted = context.settings.trusted_registries
    if not trusted:
        return
    for container in obj.containers:
        full = _normalised(container.image)
        if not any(full.startswith(p) or container.image.startswith(p) for p in trusted):
            yield Violation(
                f"{container.path}.image={container.image}",
                f"{container.label} image {container.image} is not from a trusted registry "
                f"({', '.join(trusted)})",
                (replace(f"{container.path}.image", f"{trusted[0]}<repository>:<tag>"),),
            )


@check("image-vulnerabilities")
def scanned(obj: KubeObject, context: CheckContext) -> Iterator[Violation]:
    threshold = context.settings.severity_threshold
    for container in obj.containers:
        result = context.scan_lookup(container.image) if context.scan_lookup else None
        if result is None:
            yield Violation(
                f"{container.path}.image={container.image}: no scan result known",
                f"{container.label} image {container.image} has not been scanned",
                status=Status.WARN,
            )
            continue
        open_findings = [
            v for v in result.vulnerabilities if not v.resolved and v.level >= threshold
        ]
        if open_findings:
            shown = ", ".join(f"{v.id} ({v.severity})" for v in open_findings[:5])
            more = f" and {len(open_findings) - 5} more" if len(open_findings) > 5 else ""
            yield Violation(
                f"{container.image}: {shown}{more}",
                f"{container.label} image has {len(open_findings)} unresolved "
                f"{threshold.name.lower()}+ vulnerabilities",
                (replace(f"{container.path}.image", "<patched image>"),),
            )
