"""Helpers every engine's envelope builder shares: rules and resources in the envelope's
terms, stable fingerprints, the summary, the production time."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence

import msgspec

from seawall import __version__
from seawall.contract.envelope import (
    Asset,
    PackageRef,
    ResourceRef,
    Result,
    RuleInfo,
    Summary,
    Tool,
    severity_name,
)
from seawall.model import Finding, Package, Resource, Rule, Severity, Status

FAILING = frozenset({Status.FAIL})


def now() -> str:
    """The current time as the envelope writes it (UTC, seconds)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tool() -> Tool:
    return Tool(version=__version__)


def rule_info(namespace: str, rule: Rule) -> RuleInfo:
    """A model rule under its namespaced id (``namespace/id``)."""
    return RuleInfo(
        id=f"{namespace}/{rule.id}",
        title=rule.title,
        severity=severity_name(rule.severity),
        description=rule.description,
        rationale=rule.rationale,
        remediation=rule.remediation,
        impact=rule.impact,
        references=rule.references,
        mappings=dict(rule.mappings),
        level=rule.level,
        scored=rule.scored,
    )


def resource_ref(resource: Resource) -> ResourceRef:
    return ResourceRef(
        kind=resource.kind,
        name=resource.name,
        namespace=resource.namespace,
        id=resource.id,
        attributes=dict(resource.attributes),
    )


def package_ref(package: Package) -> PackageRef:
    return PackageRef(
        ecosystem=package.ecosystem.value,
        name=package.name,
        version=package.version,
        purl=package.purl,
        path=package.path,
        source_name=package.source_name,
        source_version=package.source_version,
        layer_digest=package.layer_digest,
        layer_created_by=package.layer_created_by,
    )


def finding_result(finding: Finding, rule: str) -> Result:
    """A rule engine's finding as a result of the namespaced ``rule`` (its fingerprint is
    filled in by :func:`with_fingerprints`)."""
    return Result(
        rule=rule,
        fingerprint="",
        status=finding.status,
        severity=severity_name(finding.severity),
        resource=resource_ref(finding.resource),
        evidence=finding.evidence,
        message=finding.message,
        remediation=finding.remediation,
    )


def fingerprint(asset: Asset, rule: str, resource: ResourceRef, discriminator: str = "") -> str:
    """A stable key for one rule on one resource of one asset (32 hex characters).

    The resource counts by its id when it has one (a container id, an object uid), else by
    kind, namespace and name; ``discriminator`` separates several results of one rule on
    one resource (a package's version and path, the n-th result of a check).
    """
    who = resource.id or f"{resource.kind}/{resource.namespace}/{resource.name}"
    text = "\x1f".join((asset.type.value, asset.id, rule, resource.kind, who, discriminator))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def with_fingerprints(
    asset: Asset, results: Iterable[Result | tuple[Result, str]]
) -> tuple[Result, ...]:
    """``results`` with fingerprints filled in. A result may come with its own discriminator
    (a package's version and path); otherwise the n-th result of the same rule on the same
    resource gets ``#n``, so checks that report one resource twice keep distinct, stable keys
    (their order is deterministic)."""
    seen: Counter[tuple[str, str, str, str, str, str]] = Counter()
    out = []
    for item in results:
        result, given = item if isinstance(item, tuple) else (item, "")
        r = result.resource
        key = (result.rule, r.kind, r.namespace, r.name, r.id, given)
        seen[key] += 1
        discriminator = given if seen[key] == 1 else f"{given}#{seen[key]}"
        out.append(
            msgspec.structs.replace(
                result, fingerprint=fingerprint(asset, result.rule, r, discriminator)
            )
        )
    return tuple(out)


def summarise(results: Sequence[Result], threshold: Severity | None = None) -> Summary:
    """Counts by status and, for failing results, by severity; healthy against ``threshold``."""
    statuses = Counter(r.status.value for r in results)
    failing = [r for r in results if r.status in FAILING]
    severities = Counter(r.severity for r in failing)
    healthy = None
    if threshold is not None:
        healthy = not any(Severity[r.severity.upper()] >= threshold for r in failing)
    return Summary(
        statuses=dict(sorted(statuses.items())),
        severities=dict(sorted(severities.items())),
        healthy=healthy,
        threshold=threshold.name.lower() if threshold is not None else "",
    )
