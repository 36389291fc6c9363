"""Image inventories and vulnerability scans as envelopes (kinds ``inventory`` and
``image-scan``)."""

from __future__ import annotations

from seawall.contract.build import now, package_ref, summarise, tool, with_fingerprints
from seawall.contract.envelope import (
    Asset,
    AssetType,
    Database,
    Envelope,
    Kind,
    Remediation,
    ResourceRef,
    Result,
    RuleInfo,
    Suppressed,
    severity_name,
)
from seawall.model import Advisory, ImageInfo, Inventory, Severity, Status, Vulnerability
from seawall.vulndb.scan import ScanReport

ADVISORY_NAMESPACE = "osv"
_LOCAL_SOURCES = frozenset({"docker-archive", "oci-archive", "oci-layout", "cyclonedx"})


def advisory_rule_id(advisory_id: str) -> str:
    return f"{ADVISORY_NAMESPACE}/{advisory_id}"


def image_asset(image: ImageInfo) -> Asset:
    """The image by its config digest (its manifest digest, or its reference, when that is
    all there is), with every name it is known by."""
    references = list(image.repo_tags)
    if image.source not in _LOCAL_SOURCES and image.reference not in references:
        references.insert(0, image.reference)
    identity = image.config_digest or image.manifest_digest or f"reference:{image.reference}"
    platform = "/".join(p for p in (image.os, image.architecture, image.variant) if p)
    attributes = {"source": image.source}
    if image.created:
        attributes["created"] = image.created
    return Asset(
        type=AssetType.IMAGE,
        id=identity,
        name=references[0] if references else image.reference,
        manifest_digest=image.manifest_digest,
        config_digest=image.config_digest,
        references=tuple(references),
        platform=platform,
        attributes=attributes,
    )


def inventory_envelope(inventory: Inventory, produced_at: str = "") -> Envelope:
    """``seawall sbom -f json``: the packages of an image."""
    return Envelope(
        kind=Kind.INVENTORY,
        produced_at=produced_at or now(),
        tool=tool(),
        asset=image_asset(inventory.image),
        inventory=inventory,
        warnings=inventory.warnings,
    )


def advisory_rule(advisory: Advisory) -> RuleInfo:
    return RuleInfo(
        id=advisory_rule_id(advisory.id),
        title=advisory.summary or advisory.id,
        severity=severity_name(advisory.severity),
        description=advisory.details,
        references=advisory.references,
        aliases=advisory.aliases,
        cvss_score=advisory.cvss_score,
        cvss_vector=advisory.cvss_vector,
        published=advisory.published,
        modified=advisory.modified,
        known_exploited=advisory.known_exploited,
        epss=advisory.epss,
    )


def _result(v: Vulnerability, commands: dict[tuple[str, str, str, str], str]) -> Result:
    package = v.package
    fix = f"upgrade to {v.fixed_version}" if v.fixed else "no fixed version yet"
    return Result(
        rule=advisory_rule_id(v.advisory.id),
        fingerprint="",
        status=Status.FAIL,
        severity=severity_name(v.severity),
        resource=ResourceRef(
            kind="package",
            name=package.name,
            attributes={"ecosystem": package.ecosystem.value, "version": package.version},
        ),
        evidence=f"{package.name} {package.version} at /{package.path}",
        message=f"{package.name} {package.version} is affected by {v.advisory.id} ({fix})",
        remediation=commands.get((*package.key, package.path), ""),
        package=package_ref(package),
        fixed_version=v.fixed_version,
        severity_source=v.severity_source,
    )


def database_of(description: dict[str, str]) -> Database | None:
    """The envelope's database block from ``AdvisoryStore.describe()``."""
    if not description:
        return None
    sources = description.get("sources", "")
    return Database(
        built_at=description.get("built_at", ""),
        advisories=int(description.get("advisories", "0") or 0),
        sources=tuple(s.strip() for s in sources.split(",") if s.strip()),
    )


def scan_envelope(
    report: ScanReport, threshold: Severity | None = None, produced_at: str = ""
) -> Envelope:
    """``seawall image scan -f json``: the inventory, one result per vulnerability and
    package, the advisories once each, the fix per package and what was suppressed."""
    asset = image_asset(report.inventory.image)
    commands = {
        (*plan.package.key, plan.package.path): plan.command or plan.advice
        for plan in report.remediations
    }
    advisories = {v.advisory.id: v.advisory for v in report.vulnerabilities}
    results = with_fingerprints(
        asset,
        (
            (
                _result(v, commands),
                f"{v.package.ecosystem.value}\x1f{v.package.version}\x1f{v.package.path}",
            )
            for v in report.vulnerabilities
        ),
    )
    return Envelope(
        kind=Kind.IMAGE_SCAN,
        produced_at=produced_at or now(),
        tool=tool(),
        asset=asset,
        database=database_of(report.database),
        rules=tuple(advisory_rule(a) for a in advisories.values()),
        results=results,
        summary=summarise(results, threshold),
        inventory=report.inventory,
        remediations=tuple(
            Remediation(
                package=package_ref(plan.package),
                vulnerabilities=tuple(advisory_rule_id(i) for i in plan.vulnerabilities),
                fixed_version=plan.fixed_version,
                unfixed=tuple(advisory_rule_id(i) for i in plan.unfixed),
                command=plan.command,
                advice=plan.advice,
                layer_index=plan.layer_index,
                created_by=plan.created_by,
                from_base_image=plan.from_base_image,
            )
            for plan in report.remediations
        ),
        suppressed=tuple(
            Suppressed(
                rule=advisory_rule_id(s.id),
                package=s.package,
                version=s.version,
                status=s.status,
                reason=s.reason,
                source=s.source,
            )
            for s in report.suppressed
        ),
        warnings=report.warnings,
    )
