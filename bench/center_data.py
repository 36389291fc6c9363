"""A realistic center store for the center benchmarks (``center_speed.py``).

What it holds at full size: 10,000 images, each with an inventory of 300 packages and 100
findings of mixed severity (90 from its latest scan, 10 resolved since the scan before,
some suppressed by exceptions); 500 Docker hosts running 20 containers each; 5 clusters with
10 namespaces of 40 workloads each; 100,000 run-time alerts over the last 30 days;
recommendation states, counts and health as ingest leaves them.

How it gets there:

* Images go in in bulk (ingesting 10,000 scans one by one would take longer than the
  benchmark itself), but their envelopes are built by the engines' own envelope builders
  (``scan_envelope`` of a ``ScanReport`` with a synthetic inventory and advisories) and
  their finding rows by the center's own ``tracking._row``, so they are what ingest would
  write. Then the center's own recomputation (``refresh_counts``, ``refresh_health``,
  ``refresh_placement``, ``evaluate``) runs over every image.
* Hosts (CIS results on the host and each container), clusters (the real policy engine over
  generated Deployments) and alerts (the real run-time rules) go through the real
  ``ingest()``, which links the containers and workloads to the images, tags the images
  with where they run, and evaluates the recommendations.
* Finally the derived state of every asset is recomputed once more by the center's code,
  and :func:`spot_check` re-ingests a few generated images' own envelopes through the real
  ingest and checks that nothing but the times changes (so a generated image is exactly
  what an ingested one looks like).

Generation takes minutes; the result is cached in ``bench/.work/`` (a SQLite file, a
``pg_dump`` of the PostgreSQL database) and each benchmark run starts from a fresh copy.

    .venv/bin/python bench/center_data.py --backend sqlite [--quick] [--force]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

import msgspec  # noqa: E402
from sqlalchemy import func, insert, select, text, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from seawall.center import assets as asset_store  # noqa: E402
from seawall.center.ingest import ingest  # noqa: E402
from seawall.center.posture import evaluate  # noqa: E402
from seawall.center.security.roles import Principal, Role  # noqa: E402
from seawall.center.security.scope import EVERYTHING  # noqa: E402
from seawall.center.settings import load as load_settings  # noqa: E402
from seawall.center.store.database import connect, migrate, sessions  # noqa: E402
from seawall.center.store.models import (  # noqa: E402
    AlertRow,
    Asset,
    AssetTag,
    ExceptionRow,
    FindingRow,
    ImageDigest,
    ImageReference,
    RuleRow,
    Scan,
    StoredInventory,
)
from seawall.center.tracking import RESOLVED, ExceptionMatcher, _row  # noqa: E402
from seawall.contract.envelope import Envelope, Result, severity_of  # noqa: E402
from seawall.model import (  # noqa: E402
    Advisory,
    Alert,
    Ecosystem,
    Finding,
    ImageInfo,
    Inventory,
    LayerInfo,
    OSInfo,
    Package,
    Resource,
    Severity,
    Status,
    Vulnerability,
)
from seawall.report.envelope.image import scan_envelope  # noqa: E402
from seawall.vulndb.remediation import remediate  # noqa: E402
from seawall.vulndb.scan import ScanReport  # noqa: E402

WORK = REPO / "bench" / ".work"
GENERATOR_VERSION = 2  # bump when the generated data changes: old caches are not reused
SEED = 20261122
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)  # the generated data's "now"
BUILT_AT = "2026-11-22T06:00:00Z"  # the advisory database the scans were matched with
SYSTEM = Principal(name="bench:generator", role=Role.OWNER, scope=EVERYTHING)
REGISTRIES = (
    "registry.example.com",
    "ghcr.example.io",
    "harbor.corp.example:5000",
    "quay.example.org",
)


@dataclass(frozen=True)
class Size:
    name: str
    images: int = 10_000
    findings: int = 100  # rows per image: current ones plus those resolved since
    resolved: int = 10  # of which resolved
    packages: int = 300
    hosts: int = 500
    containers: int = 20  # per host
    clusters: int = 5
    namespaces: int = 10  # per cluster
    workloads: int = 40  # per namespace
    alerts: int = 100_000

    @property
    def label(self) -> str:
        return (
            f"{self.images:,} images x {self.packages} packages x {self.findings} findings, "
            f"{self.hosts} hosts x {self.containers} containers, {self.clusters} clusters x "
            f"{self.namespaces * self.workloads} workloads, {self.alerts:,} alerts"
        )


FULL = Size("full")
QUICK = Size("quick", images=500, hosts=25, clusters=1, namespaces=4, workloads=10, alerts=5000)


# -- pools of packages and advisories -----------------------------------------------------


def _hex(*parts: object, n: int = 64) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:n]


_SEVERITIES = (
    (Severity.CRITICAL, 0.06),
    (Severity.HIGH, 0.22),
    (Severity.MEDIUM, 0.40),
    (Severity.LOW, 0.24),
    (Severity.UNKNOWN, 0.08),
)
_WORDS = (
    "buffer overflow in parser",
    "out-of-bounds read in decoder",
    "use-after-free in handler",
    "integer overflow in allocator",
    "denial of service via crafted input",
    "path traversal in archive extraction",
    "prototype pollution",
    "regular expression denial of service",
    "improper certificate validation",
    "HTTP request smuggling",
    "NULL pointer dereference",
)


@dataclass(frozen=True)
class PoolPackage:
    ecosystem: Ecosystem
    name: str
    versions: tuple[str, ...]
    source: str
    advisories: tuple[Advisory, ...]
    fixes: tuple[str, ...]  # per advisory: fixed version or ""


class Pools:
    """Deterministic package names (Debian, npm, PyPI), versions and advisories: images
    built on the same base share packages and so share vulnerabilities, as real ones do."""

    def __init__(self, seed: int = SEED) -> None:
        rng = random.Random(seed)
        self.deb = [
            self._package(rng, Ecosystem.DEB, f"lib{_hex('deb', i, n=6)}", i) for i in range(900)
        ]
        self.npm = [
            self._package(rng, Ecosystem.NPM, f"npm-{_hex('npm', i, n=8)}", i) for i in range(900)
        ]
        self.pypi = [
            self._package(rng, Ecosystem.PYPI, f"py-{_hex('pypi', i, n=8)}", i) for i in range(500)
        ]
        # a few names everyone knows, vulnerable in most images
        for index, name in enumerate(("openssl", "zlib1g", "libc6", "curl", "libxml2")):
            self.deb[index] = dataclasses.replace(self.deb[index], name=name, source=name)
        self.bases = [
            ("debian", "12", "Debian GNU/Linux 12 (bookworm)", sorted(rng.sample(range(900), 230))),
            ("debian", "11", "Debian GNU/Linux 11 (bullseye)", sorted(rng.sample(range(900), 220))),
            ("ubuntu", "22.04", "Ubuntu 22.04.4 LTS", sorted(rng.sample(range(900), 210))),
        ]
        for _, _, _, chosen in self.bases:  # the well-known ones are in every base
            chosen[:0] = [i for i in range(5) if i not in chosen]

    @staticmethod
    def _package(rng: random.Random, ecosystem: Ecosystem, name: str, index: int) -> PoolPackage:
        major = rng.randint(0, 9)
        versions = tuple(f"{major}.{rng.randint(0, 30)}.{rng.randint(0, 20)}" for _ in range(3))
        if ecosystem is Ecosystem.DEB:
            versions = tuple(f"{v}-{rng.randint(1, 9)}+deb12u{rng.randint(1, 5)}" for v in versions)
        vulnerable = index < 5 or rng.random() < 0.42
        count = (8 if index < 5 else rng.randint(1, 14)) if vulnerable else 0
        advisories = []
        fixes = []
        for k in range(count):
            severity = rng.choices([s for s, _ in _SEVERITIES], [w for _, w in _SEVERITIES])[0]
            year = rng.randint(2016, 2026)
            if ecosystem is Ecosystem.DEB:
                ident = f"CVE-{year}-{rng.randint(1000, 49999)}"
                aliases: tuple[str, ...] = ()
            else:
                h = _hex(ecosystem, name, k, n=12)
                ident = f"GHSA-{h[:4]}-{h[4:8]}-{h[8:12]}"
                aliases = (f"CVE-{year}-{rng.randint(1000, 49999)}",)
            what = rng.choice(_WORDS)
            advisories.append(
                Advisory(
                    id=ident,
                    aliases=aliases,
                    summary=f"{name}: {what}",
                    details=f"A {what} in {name} before the fixed version allows a remote "
                    f"attacker to cause a crash or run code with crafted input. " * 2,
                    severity=severity,
                    cvss_score=round(rng.uniform(2, 10), 1),
                    cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                    references=(f"https://security.example.org/{ident}",),
                    published=f"{year}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T00:00:00Z",
                    modified="2026-10-01T00:00:00Z",
                    known_exploited=rng.random() < 0.02,
                    epss=round(rng.random() * 0.5, 4),
                )
            )
            fixes.append(f"{major}.{rng.randint(31, 60)}.0" if rng.random() < 0.7 else "")
        return PoolPackage(ecosystem, name, versions, name, tuple(advisories), tuple(fixes))


def image_digest(index: int, salt: str = "") -> str:
    return "sha256:" + _hex("config", SEED, salt, index)


def image_reference(index: int, salt: str = "") -> str:
    rng = random.Random(f"{SEED}/ref/{salt}/{index}")
    registry = REGISTRIES[index % len(REGISTRIES)]
    team = rng.randint(1, 40)
    repository = f"team-{team}/svc-{(index // 13) % 800}"
    if salt:
        repository = f"fresh-{salt}/svc-{index}"
    return f"{registry}/{repository}:v{index % 13}.{rng.randint(0, 9)}"


def image_envelopes(
    pools: Pools,
    index: int,
    *,
    findings: int = 100,
    resolved: int = 10,
    packages: int = 300,
    salt: str = "",
    produced_at: str = "",
) -> tuple[Envelope, list[Result]]:
    """The latest ``image-scan`` envelope of image ``index`` (``packages`` packages,
    ``findings - resolved`` vulnerabilities), built by the engine's own ``scan_envelope``,
    and the results of the scan before that are fixed since (``resolved`` of them)."""
    rng = random.Random(f"{SEED}/image/{salt}/{index}")
    distro, version, pretty, chosen = pools.bases[index % len(pools.bases)]
    config, reference = image_digest(index, salt), image_reference(index, salt)
    manifest = "sha256:" + _hex("manifest", SEED, salt, index)
    base_layer = "sha256:" + _hex("base", distro, version)
    layers = [
        LayerInfo(
            index=0,
            digest=base_layer,
            size=30_000_000,
            created_by="/bin/sh -c #(nop) ADD file:... in /",
        ),
        LayerInfo(
            index=1,
            digest="sha256:" + _hex("layer1", index % 97),
            size=8_000_000,
            created_by="RUN apt-get update && apt-get install -y ca-certificates",
        ),
        LayerInfo(
            index=2,
            digest="sha256:" + _hex("layer2", salt, index),
            size=40_000_000,
            created_by="COPY . /app # buildkit",
        ),
        LayerInfo(
            index=3,
            digest="sha256:" + _hex("layer3", salt, index),
            size=2_000_000,
            created_by="RUN npm ci --omit=dev # buildkit",
        ),
    ]
    app_pool = pools.npm if index % 3 else pools.pypi
    picked: list[tuple[PoolPackage, int]] = [(pools.deb[i], 0) for i in chosen][: packages - 60]
    picked += [(p, 3) for p in rng.sample(app_pool, packages - len(picked))]
    inventory_packages = []
    for pool_package, layer in picked:
        package_version = pool_package.versions[rng.randrange(3)]
        eco = pool_package.ecosystem
        path = (
            "var/lib/dpkg/status"
            if eco is Ecosystem.DEB
            else f"app/node_modules/{pool_package.name}/package.json"
            if eco is Ecosystem.NPM
            else f"usr/local/lib/python3.11/site-packages/{pool_package.name}.dist-info/METADATA"
        )
        purl = (
            f"pkg:deb/{distro}/{pool_package.name}@{package_version}?arch=amd64"
            f"&distro={distro}-{version}"
            if eco is Ecosystem.DEB
            else f"pkg:{eco.value}/{pool_package.name}@{package_version}"
        )
        inventory_packages.append(
            Package(
                ecosystem=eco,
                name=pool_package.name,
                version=package_version,
                path=path,
                source_name=pool_package.source if eco is Ecosystem.DEB else "",
                source_version=package_version if eco is Ecosystem.DEB else "",
                arch="amd64" if eco is Ecosystem.DEB else "",
                licenses=("MIT",) if eco is not Ecosystem.DEB else ("GPL-2.0-or-later",),
                purl=purl,
                layer_digest=layers[layer].digest,
                layer_created_by=layers[layer].created_by,
            )
        )
    inventory = Inventory(
        image=ImageInfo(
            reference=reference,
            source="registry",
            config_digest=config,
            manifest_digest=manifest,
            os="linux",
            architecture="amd64",
            created="2026-10-01T00:00:00Z",
            layers=tuple(layers),
            base_layers=1,
        ),
        distro=OSInfo(id=distro, version_id=version, name=pretty),
        packages=tuple(inventory_packages),
    )
    pairs = [
        (package, advisory, fix)
        for package, (pool_package, _) in zip(inventory_packages, picked, strict=True)
        for advisory, fix in zip(pool_package.advisories, pool_package.fixes, strict=True)
    ]
    # the well-known packages' advisories first (they are in most images), then the rest
    known = [p for p in pairs if p[0].name in {"openssl", "zlib1g", "libc6", "curl", "libxml2"}]
    others = [p for p in pairs if p not in known]
    rng.shuffle(known)
    rng.shuffle(others)
    selected = (known[: findings // 5] + others)[:findings]
    vulnerabilities = [
        Vulnerability(
            advisory=advisory,
            package=package,
            severity=advisory.severity,
            fixed_version=fix,
            severity_source="debian" if package.ecosystem is Ecosystem.DEB else "ghsa",
        )
        for package, advisory, fix in selected
    ]
    database = {"built_at": BUILT_AT, "advisories": "412345", "sources": "osv, debian, ghsa"}
    current = vulnerabilities[: len(vulnerabilities) - resolved]

    def envelope(found: list[Vulnerability]) -> Envelope:
        report = ScanReport(
            inventory=inventory,
            vulnerabilities=tuple(found),
            remediations=tuple(remediate(inventory, found)),
            database=database,
        )
        return scan_envelope(report, produced_at=produced_at)

    latest = envelope(current)
    before = envelope(vulnerabilities) if resolved else latest
    current_fingerprints = {r.fingerprint for r in latest.results}
    gone = [r for r in before.results if r.fingerprint not in current_fingerprints]
    return latest, gone


# -- bulk images -------------------------------------------------------------------------


def _when(rng: random.Random, days: float) -> dt.datetime:
    return NOW - dt.timedelta(seconds=rng.uniform(0, days * 86400))


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        text_ = value.isoformat()
    elif isinstance(value, (dict, list)):
        text_ = json.dumps(value)
    elif isinstance(value, bytes):
        return "\\\\x" + value.hex()
    else:
        text_ = str(value)
    return (
        text_.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def bulk_insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT many rows: one executemany on SQLite, COPY on PostgreSQL (pg8000 sends an
    executemany row by row)."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(model), rows)
        return
    table = model.__table__
    keys = list(rows[0])
    # ORM attribute names may differ from column names (ImageReference.registry_host)
    names = [model.__mapper__.attrs[k].columns[0].name for k in keys]
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_value(row[k]) for k in keys))
        buffer.write("\n")
    buffer.seek(0)
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    quoted = ", ".join(f'"{n}"' for n in names)
    cursor.execute(f'COPY "{table.name}" ({quoted}) FROM STDIN', stream=buffer)


class ImageWriter:
    """Images in bulk, with the rows ingest writes for an image scan."""

    def __init__(self, session: Session, pools: Pools, size: Size) -> None:
        self.session = session
        self.pools = pools
        self.size = size
        self.repositories: dict[str, int] = {}
        self.registries: dict[str, int] = {}
        self.rules: dict[str, dict[str, Any]] = {}
        self.exceptions_by_repo: dict[str, list[str]] = {}

    def _registry_assets(self, reference: str, when: dt.datetime) -> int:
        parts = asset_store.normalise_reference(reference)
        assert parts is not None
        _, registry, repository, _ = parts
        if registry not in self.registries:
            row = asset_store.ensure(self.session, "registry", registry, registry, when)
            asset_store.set_tags(self.session, row, [f"registry:{registry}"])
            self.registries[registry] = row.id
        key = f"{registry}/{repository}"
        if key not in self.repositories:
            parent = self.session.get(Asset, self.registries[registry])
            row = asset_store.ensure(
                self.session, "repository", key, repository, when, parent=parent
            )
            asset_store.set_tags(self.session, row, [f"registry:{registry}"])
            self.repositories[key] = row.id
        return self.repositories[key]

    def write(self, start: int, stop: int) -> None:
        """Images ``start`` to ``stop`` (one batch; the caller commits)."""
        session = self.session
        assets, built = [], []
        for index in range(start, stop):
            rng = random.Random(f"{SEED}/when/{index}")
            latest, gone = image_envelopes(
                self.pools,
                index,
                findings=self.size.findings,
                resolved=self.size.resolved,
                packages=self.size.packages,
            )
            first = _when(rng, 90)
            scanned = max(first, _when(rng, 7))
            reference = latest.asset.references[0]
            parent = self._registry_assets(reference, first)
            inventory = latest.inventory
            assert inventory is not None
            described = latest.asset
            assets.append(
                {
                    "type": "image",
                    "key": described.id,
                    "name": described.name,
                    "parent_id": parent,
                    "first_seen": first,
                    "last_seen": scanned,
                    "last_scanned": scanned,
                    "gone": False,
                    # exactly the attributes _source and _store_inventory write
                    "attributes": {
                        "platform": described.platform,
                        **described.attributes,
                        "distro": inventory.distro.pretty if inventory.distro else "",
                        "packages": len(inventory.packages),
                        "layers": len(inventory.image.layers),
                    },
                    "critical": 0,
                    "high": 0,
                    "medium": 0,
                    "low": 0,
                    "unknown": 0,
                    "healthy": None,
                    "running": False,
                }
            )
            built.append((latest, gone, first, scanned, reference))
        session.execute(insert(Asset), assets)
        ids = dict(
            session.execute(
                select(Asset.key, Asset.id).where(
                    Asset.type == "image", Asset.key.in_([a["key"] for a in assets])
                )
            ).all()
        )
        digests, references, tags, inventories, findings, scans = [], [], [], [], [], []
        for latest, gone, first, scanned, reference in built:
            image_id = ids[latest.asset.id]
            described = latest.asset
            for digest in (described.config_digest, described.manifest_digest):
                digests.append({"digest": digest, "image_id": image_id})
            parts = asset_store.normalise_reference(reference)
            assert parts is not None
            full, registry, repository, tag = parts
            references.append(
                {
                    "image_id": image_id,
                    "reference": full,
                    "registry_host": registry,
                    "repository": repository,
                    "tag": tag,
                    "last_seen": scanned,
                }
            )
            tags.append({"asset_id": image_id, "tag": f"registry:{registry}"})
            assert latest.inventory is not None
            inventories.append(
                {
                    "image_id": image_id,
                    "packages": len(latest.inventory.packages),
                    "data": zlib.compress(msgspec.json.encode(latest.inventory), 6),
                    "updated_at": scanned,
                    "matched_with": BUILT_AT,
                }
            )
            for rule in latest.rules:
                self.rules.setdefault(
                    rule.id,
                    {
                        "id": rule.id[:300],
                        "title": rule.title,
                        "severity": int(severity_of(rule.severity)),
                        "data": msgspec.to_builtins(rule),
                    },
                )
            matcher = ExceptionMatcher(
                session,
                [f"{registry}/{repository}"],
                [described.id, described.manifest_digest, described.config_digest],
                {rule.id: rule.aliases for rule in latest.rules if rule.aliases},
                scanned,
            )
            # what sync() inserts for the earlier scan, then what it updates for the latest
            for result in latest.results:
                row = _row(result, image_id, matcher(result), scanned)
                findings.append(
                    {
                        **row,
                        "fingerprint": result.fingerprint,
                        "source_id": image_id,
                        "kind": "vulnerability",
                        "first_seen": first,
                        "resolved_at": None,
                        "reopened_at": None,
                        "times_reopened": 0,
                    }
                )
            for result in gone:
                row = _row(result, image_id, matcher(result), first)
                row.update(failing=False, is_open=False, status=RESOLVED, exception_id=None)
                findings.append(
                    {
                        **row,
                        "fingerprint": result.fingerprint,
                        "source_id": image_id,
                        "kind": "vulnerability",
                        "first_seen": first,
                        "resolved_at": scanned,
                        "reopened_at": None,
                        "times_reopened": 0,
                    }
                )
            for when, results in (
                (first, len(latest.results) + len(gone)),
                (scanned, len(latest.results)),
            ):
                scans.append(
                    {
                        "kind": "image-scan",
                        "asset_id": image_id,
                        "produced_at": when,
                        "received_at": when,
                        "tool_version": latest.tool.version[:40],
                        "database": BUILT_AT,
                        "results": results,
                        "principal": "token:ci",
                        "idempotency_key": None,
                    }
                )
        bulk_insert(session, ImageDigest, digests)
        bulk_insert(session, ImageReference, references)
        bulk_insert(session, AssetTag, tags)
        bulk_insert(session, StoredInventory, inventories)
        bulk_insert(session, FindingRow, findings)
        bulk_insert(session, Scan, scans)

    def write_rules(self) -> None:
        rows = list(self.rules.values())
        for start in range(0, len(rows), 500):
            self.session.execute(insert(RuleRow), rows[start : start + 500])


def _exceptions(session: Session, pools: Pools) -> None:
    """A few accepted risks: some advisories everywhere, some in one repository."""
    rng = random.Random(f"{SEED}/exceptions")
    everywhere = [pools.deb[0].advisories[0].id, pools.deb[3].advisories[1].id]
    everywhere += [a.id for p in pools.deb[5:60] for a in p.advisories][:10]
    rows = [
        {
            "rule": rule,
            "scope_type": "all",
            "scope_value": "",
            "author": "alice",
            "reason": "not reachable: the vulnerable function is never called",
            "created_at": NOW - dt.timedelta(days=20),
            "expires_at": NOW + dt.timedelta(days=60),
            "active": True,
        }
        for rule in everywhere
    ]
    for index in rng.sample(range(2000), 40):
        registry, _, repository = image_reference(index).partition(":v")[0].partition("/")
        package = pools.deb[rng.randrange(5, 200)]
        if not package.advisories:
            continue
        rows.append(
            {
                "rule": package.advisories[0].id,
                "scope_type": "repository",
                "scope_value": f"{registry}/{repository}",
                "author": "bob",
                "reason": "mitigated by the network policy",
                "created_at": NOW - dt.timedelta(days=5),
                "expires_at": None,
                "active": True,
            }
        )
    session.execute(insert(ExceptionRow), rows)


# -- hosts, clusters, alerts through the real ingest ----------------------------------------


def _running_pool(size: Size, count: int, salt: str) -> list[int]:
    """Images that run somewhere: a popular few on many hosts, a long tail on one."""
    rng = random.Random(f"{SEED}/running/{salt}")
    popular = rng.sample(range(size.images), max(1, size.images // 50))
    tail = rng.sample(range(size.images), min(size.images, count))
    return [rng.choice(popular) if rng.random() < 0.3 else rng.choice(tail) for _ in range(count)]


def host_envelope_for(size: Size, index: int) -> Envelope:
    from seawall.hardening.docker.audit import HostAudit, score
    from seawall.report.envelope.host import host_envelope
    from seawall.rules import catalog

    rules = catalog("cis-docker")
    rng = random.Random(f"{SEED}/host/{index}")
    name = f"host-{index:04d}"
    host = Resource(kind="host", name=name)
    findings = []
    for rule_id in sorted(r for r in rules if r[0] in "1237")[:45]:
        status = Status.FAIL if rng.random() < 0.25 else Status.PASS
        findings.append(
            Finding(
                rule=rules[rule_id],
                status=status,
                resource=host,
                evidence="daemon.json: setting seen" if status is Status.FAIL else "as recommended",
            )
        )
    images = _running_pool(size, size.hosts * size.containers, "hosts")
    listed = []
    for k in range(size.containers):
        image = images[index * size.containers + k]
        container = f"svc-{k:02d}-{_hex('c', index, k, n=6)}"
        resource = Resource(kind="container", name=container, id=_hex("cid", index, k))
        for rule_id, odds in (
            ("5.5", 0.05),
            ("5.11", 0.4),
            ("5.12", 0.4),
            ("4.1", 0.5),
            ("5.13", 0.6),
        ):
            bad = rng.random() < odds
            findings.append(
                Finding(
                    rule=rules[rule_id],
                    status=Status.FAIL if bad else Status.PASS,
                    resource=resource,
                    evidence=f"{rule_id}={'bad' if bad else 'ok'}",
                )
            )
        listed.append(
            {
                "id": resource.id,
                "name": container,
                "image": image_reference(image),
                "image_id": image_digest(image),
                "running": rng.random() < 0.9,
                "labels": {"app": f"svc-{k}"},
            }
        )
    engine_id = ":".join(_hex("engine", index, n=48)[i : i + 4].upper() for i in range(0, 48, 4))
    inventory = {
        "endpoint": "unix:///var/run/docker.sock",
        "engine": "docker",
        "id": engine_id,
        "name": name,
        "docker_version": "26.1.5",
        "api_version": "1.45",
        "containerd_version": "1.7.20",
        "os": "Debian GNU/Linux 12 (bookworm)",
        "kernel": "6.1.0-25-amd64",
        "architecture": "x86_64",
        "images": size.containers,
        "containers_running": sum(1 for c in listed if c["running"]),
        "containers_stopped": sum(1 for c in listed if not c["running"]),
        "dockerd_pid": 812,
        "daemon_config_file": "/etc/docker/daemon.json",
        "containers": listed,
    }
    return host_envelope(HostAudit(findings=findings, inventory=inventory, score=score(findings)))


def _manifests(size: Size, cluster: int) -> str:
    rng = random.Random(f"{SEED}/cluster/{cluster}")
    images = _running_pool(size, size.clusters * size.namespaces * size.workloads, "clusters")
    docs = []
    n = 0
    for ns in range(size.namespaces):
        namespace = f"team-{ns:02d}"
        for w in range(size.workloads):
            image = image_reference(images[(cluster * size.namespaces + ns) * size.workloads + w])
            n += 1
            privileged = "true" if rng.random() < 0.05 else "false"
            non_root = "true" if rng.random() < 0.6 else "false"
            read_only = "true" if rng.random() < 0.4 else "false"
            limits = (
                "\n            resources:\n              limits: {cpu: 500m, memory: 256Mi}"
                if rng.random() < 0.5
                else ""
            )
            docs.append(
                f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{w:03d}
  namespace: {namespace}
  uid: {_hex("uid", cluster, ns, w, n=8)}-0000-4000-8000-{_hex("uid2", cluster, ns, w, n=12)}
  labels: {{app: app-{w:03d}, team: {namespace}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: app-{w:03d}}}}}
  template:
    metadata:
      labels: {{app: app-{w:03d}}}
    spec:
      containers:
        - name: main
          image: {image}
          securityContext:
            privileged: {privileged}
            runAsNonRoot: {non_root}
            readOnlyRootFilesystem: {read_only}{limits}
"""
            )
    return "---\n".join(docs)


def cluster_envelope_for(size: Size, index: int) -> Envelope:
    from seawall.policy.engine import PolicyEngine
    from seawall.policy.manifests import parse_manifests
    from seawall.policy.settings import PolicySettings
    from seawall.report.envelope.kubernetes import cluster_asset, k8s_envelope

    objects = parse_manifests(_manifests(size, index), "cluster.yaml")
    engine = PolicyEngine(PolicySettings())
    uid = f"{_hex('kube-system', index, n=8)}-1111-4111-8111-{_hex('ks', index, n=12)}"
    asset = cluster_asset(f"cluster-{index:02d}", uid)
    return k8s_envelope(asset, objects, engine.findings(objects, passes=True))


def alert_envelopes(size: Size) -> Iterator[Envelope]:
    """``size.alerts`` alerts over the last 30 days, in batches as sensors upload them:
    k8s-audit alerts on the clusters (60 %), docker and auditd alerts on the hosts."""
    from seawall.contract.envelope import Asset as EnvelopeAsset
    from seawall.contract.envelope import AssetType
    from seawall.report.envelope.runtime import alerts_envelope
    from seawall.runtime.rules.loader import load_rules

    compiled = list(load_rules([]).rules.values())
    k8s = [r for r in compiled if r.source == "k8s_audit"]
    host_rules = [r for r in compiled if r.source in ("docker", "auditd")]
    rng = random.Random(f"{SEED}/alerts")
    batch = 1000
    made = 0
    while made < size.alerts:
        count = min(batch, size.alerts - made)
        on_cluster = size.clusters > 0 and (made // batch) % 5 < 3
        if on_cluster:
            c = rng.randrange(size.clusters)
            asset = EnvelopeAsset(
                type=AssetType.CLUSTER, id=f"name:cluster-{c:02d}", name=f"cluster-{c:02d}"
            )
        else:
            h = rng.randrange(size.hosts)
            asset = EnvelopeAsset(
                type=AssetType.HOST, id=f"name:host-{h:04d}", name=f"host-{h:04d}"
            )
        alerts = []
        for k in range(count):
            rule = rng.choice(k8s if on_cluster else host_rules)
            when = NOW - dt.timedelta(seconds=rng.uniform(0, 30 * 86400))
            repeats = 1 if rng.random() < 0.8 else rng.randint(2, 40)
            last = when + dt.timedelta(seconds=rng.uniform(0, 60) * (repeats - 1))
            if on_cluster:
                namespace = f"team-{rng.randrange(max(1, size.namespaces)):02d}"
                resource = Resource(
                    kind="Pod", name=f"app-{rng.randrange(40):03d}-7d9f", namespace=namespace
                )
            else:
                resource = Resource(
                    kind="container",
                    name=f"svc-{rng.randrange(size.containers):02d}",
                    id=_hex("cid", made + k),
                )
            alerts.append(
                Alert(
                    id=_hex("alert", made + k, n=16),
                    rule=rule.rule,
                    time=when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    last_time=last.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    resource=resource,
                    evidence={
                        "user": f"user-{rng.randrange(50)}",
                        "command": "sh -c id",
                        "source_ip": f"10.{rng.randrange(255)}.{rng.randrange(255)}.7",
                    },
                    source=rule.source.replace("_", "-"),
                    tactic=rule.tactic,
                    technique=rule.technique,
                    count=repeats,
                )
            )
        made += count
        yield alerts_envelope(asset, alerts, produced_at=NOW.strftime("%Y-%m-%dT%H:%M:%SZ"))


# -- the whole store ---------------------------------------------------------------------


def _log(message: str, start: float) -> None:
    print(f"  [{time.perf_counter() - start:7.1f} s] {message}", flush=True)


def recompute(session: Session, ids: list[int], when: dt.datetime) -> None:
    """The center's own derived state for ``ids``: counts, health, placement, states."""
    threshold = load_settings(session).threshold
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        evaluate.refresh_counts(session, chunk)
        evaluate.refresh_health(session, chunk, threshold)
        session.flush()
        evaluate.evaluate(session, chunk, when)


def _analyze(engine: Any) -> None:
    if engine.dialect.name == "postgresql":
        with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text("ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def generate(url: str, size: Size, progress: Callable[[str, float], None] = _log) -> None:
    """Fill the empty center database at ``url`` (migrated here)."""
    start = time.perf_counter()
    engine = connect(url)
    migrate(engine)
    factory = sessions(engine)
    pools = Pools()
    with factory() as session, session.begin():
        _exceptions(session, pools)
    writer_rules: dict[str, dict[str, Any]] = {}
    batch = 50
    for first in range(0, size.images, batch):
        with factory() as session, session.begin():
            writer = ImageWriter(session, pools, size)
            writer.rules = writer_rules
            # registry and repository assets are found again by ensure() in each batch
            writer.write(first, min(size.images, first + batch))
        if (first // batch) % 20 == 0:
            progress(f"images {first + batch:,}/{size.images:,}", start)
    with factory() as session, session.begin():
        writer = ImageWriter(session, pools, size)
        writer.rules = writer_rules
        writer.write_rules()
    progress(f"{len(writer_rules):,} rules", start)
    with factory() as session:
        image_ids = list(session.scalars(select(Asset.id).where(Asset.type == "image")))
    for first in range(0, len(image_ids), 2000):
        with factory() as session, session.begin():
            recompute(session, image_ids[first : first + 2000], NOW)
    progress("image counts, health and recommendation states", start)
    _analyze(engine)  # so that the hosts' and clusters' ingests below plan with statistics
    for index in range(size.hosts):
        envelope = host_envelope_for(size, index)
        with factory() as session, session.begin():
            ingest(session, envelope, SYSTEM, NOW - dt.timedelta(minutes=index % 600))
        if index % 100 == 99:
            progress(f"hosts {index + 1}/{size.hosts} (ingested)", start)
    for index in range(size.clusters):
        envelope = cluster_envelope_for(size, index)
        with factory() as session, session.begin():
            ingest(session, envelope, SYSTEM, NOW - dt.timedelta(minutes=5 * index))
        progress(
            f"cluster {index + 1}/{size.clusters} (ingested, {len(envelope.results)} results)",
            start,
        )
    for n, envelope in enumerate(alert_envelopes(size)):
        with factory() as session, session.begin():
            ingest(session, envelope, SYSTEM, NOW)
        if n % 20 == 19:
            progress(f"alerts {(n + 1) * 1000:,}/{size.alerts:,} (ingested)", start)
    with factory() as session, session.begin():
        # some alerts have been looked at
        session.execute(
            update(AlertRow)
            .where(AlertRow.id % 7 == 0)
            .values(status="acknowledged", status_by="alice", status_at=NOW)
        )
        session.execute(
            update(AlertRow)
            .where(AlertRow.id % 11 == 0)
            .values(
                status="dismissed",
                status_reason="expected: maintenance window",
                status_by="bob",
                status_at=NOW,
            )
        )
    with factory() as session:
        every = list(session.scalars(select(Asset.id).where(Asset.gone.is_(False))))
    for first in range(0, len(every), 2000):
        with factory() as session, session.begin():
            recompute(session, every[first : first + 2000], NOW)
    progress(f"recomputed {len(every):,} assets", start)
    _analyze(engine)
    if engine.dialect.name == "sqlite":
        # a center's SQLite database is never analyzed: the store is left without the
        # planner's statistics, as a real one is (PostgreSQL's autovacuum analyzes)
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM sqlite_stat1"))
        with engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    progress("analyzed", start)
    engine.dispose()


def describe(url: str) -> dict[str, int]:
    engine = connect(url)
    counts: dict[str, int] = {}
    with sessions(engine)() as session:
        for type_, n in session.execute(select(Asset.type, func.count()).group_by(Asset.type)):
            counts[f"assets:{type_}"] = n
        for model in (FindingRow, AlertRow, RuleRow, StoredInventory, Scan):
            counts[model.__tablename__] = int(
                session.scalar(select(func.count()).select_from(model)) or 0
            )
        counts["findings:open"] = int(
            session.scalar(select(func.count()).where(FindingRow.is_open.is_(True))) or 0
        )
        counts["findings:suppressed"] = int(
            session.scalar(select(func.count()).where(FindingRow.exception_id.is_not(None))) or 0
        )
        counts["findings:resolved"] = int(
            session.scalar(select(func.count()).where(FindingRow.resolved_at.is_not(None))) or 0
        )
        counts["images:running"] = int(
            session.scalar(select(func.count()).where(Asset.type == "image", Asset.running)) or 0
        )
    engine.dispose()
    return counts


_VOLATILE = {"last_seen", "last_scanned", "updated_at", "received_at", "produced_at"}


def spot_check(url: str, size: Size, samples: int = 3) -> list[str]:
    """Re-ingest a few generated images' own latest envelopes through the real ingest; a
    generated image looks like an ingested one if nothing but the times changes. Runs in a
    transaction that is rolled back. The problems found (none: an empty list)."""
    engine = connect(url)
    pools = Pools()
    problems: list[str] = []
    rng = random.Random(f"{SEED}/spot")
    with sessions(engine)() as session:
        running = list(
            session.scalars(select(Asset.key).where(Asset.type == "image", Asset.running))
        )
        picks = [rng.randrange(size.images) for _ in range(samples)]
        by_key = {image_digest(i): i for i in range(size.images)}
        picks += [by_key[k] for k in running[:samples] if k in by_key]
        for index in picks:
            latest, _ = image_envelopes(
                pools, index, findings=size.findings, resolved=size.resolved, packages=size.packages
            )
            image = session.scalar(
                select(Asset).where(Asset.type == "image", Asset.key == latest.asset.id)
            )
            assert image is not None

            def snapshot(image_id: int) -> dict[str, Any]:
                session.expire_all()
                asset = session.get(Asset, image_id)
                assert asset is not None
                finding_rows = session.scalars(
                    select(FindingRow)
                    .where(FindingRow.source_id == image_id)
                    .order_by(FindingRow.fingerprint)
                ).all()
                from seawall.center.store.models import RecommendationState

                return {
                    "asset": {
                        c: getattr(asset, c)
                        for c in [col.key for col in Asset.__table__.columns]
                        if c not in _VOLATILE
                    },
                    "tags": sorted(asset_store.tags_of(session, image_id)),
                    "findings": [
                        {
                            c: getattr(f, c)
                            for c in [col.key for col in FindingRow.__table__.columns]
                            if c not in _VOLATILE
                        }
                        for f in finding_rows
                    ],
                    "states": sorted(
                        (s.recommendation, s.state, s.detail)
                        for s in session.scalars(
                            select(RecommendationState).where(
                                RecommendationState.asset_id == image_id
                            )
                        )
                    ),
                }

            before = snapshot(image.id)
            try:
                receipt = ingest(session, latest, SYSTEM, NOW + dt.timedelta(hours=1))
                session.flush()
                after = snapshot(image.id)
            finally:
                session.rollback()
            if receipt.new or receipt.resolved or receipt.reopened:
                problems.append(f"image {index}: re-ingest changed findings: {receipt}")
            for part in before:
                if before[part] != after[part]:
                    if part == "findings":
                        diffs = [
                            (c, b[c], a[c])
                            for b, a in zip(before[part], after[part], strict=False)
                            for c in b
                            if b[c] != a[c]
                        ][:3]
                        problems.append(f"image {index}: findings differ: {diffs}")
                    else:
                        problems.append(
                            f"image {index}: {part} differ: {before[part]} != {after[part]}"
                        )
    engine.dispose()
    return problems


# -- caches ------------------------------------------------------------------------------

PG_SERVER = os.environ.get("SEAWALL_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def _pg_parts() -> tuple[str, str, str]:
    rest = PG_SERVER.split("://", 1)[1]
    user, _, hostport = rest.rpartition("@")
    host, _, port = hostport.partition(":")
    return user or "postgres", host, port or "5432"


def pg_url(database: str) -> str:
    user, host, port = _pg_parts()
    return f"postgresql+pg8000://{user}@{host}:{port}/{database}"


def pg_admin(statement: str) -> None:
    import pg8000.native

    user, host, port = _pg_parts()
    connection = pg8000.native.Connection(user, host=host, port=int(port), database="postgres")
    try:
        connection.run(statement)
    finally:
        connection.close()


def _pg_env() -> dict[str, str]:
    user, host, port = _pg_parts()
    return {**os.environ, "PGUSER": user, "PGHOST": host, "PGPORT": port}


def cache_path(size: Size, backend: str) -> Path:
    suffix = "db" if backend == "sqlite" else "pgdump"
    return WORK / f"center-{size.name}-v{GENERATOR_VERSION}.{suffix}"


def ensure_cache(size: Size, backend: str, *, force: bool = False, check: bool = True) -> Path:
    """The cached store of ``size`` on ``backend`` (generated when missing)."""
    path = cache_path(size, backend)
    if path.exists() and not force:
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"generating the {size.name} store on {backend}: {size.label}", flush=True)
    if backend == "sqlite":
        partial = path.with_suffix(".partial")
        for leftover in WORK.glob(partial.name + "*"):
            leftover.unlink()
        url = f"sqlite:///{partial}"
        generate(url, size)
        problems = spot_check(url, size) if check else []
        _report(url, problems)
        partial.rename(path)
        return path
    database = f"seawall_bench_gen_{os.getpid()}"
    pg_admin(f'CREATE DATABASE "{database}"')
    try:
        url = pg_url(database)
        generate(url, size)
        problems = spot_check(url, size) if check else []
        _report(url, problems)
        partial = path.with_suffix(".partial")
        subprocess.run(
            ["pg_dump", "-Fc", "-Z1", "-f", str(partial), database], check=True, env=_pg_env()
        )
        partial.rename(path)
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return path


def _report(url: str, problems: list[str]) -> None:
    counts = describe(url)
    print("  " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    if problems:
        print("  SPOT CHECK FAILED:\n    " + "\n    ".join(problems))
    else:
        print("  spot check: re-ingesting generated images through ingest() changes nothing")


def sync_indexes(url: str) -> list[str]:
    """Make the indexes of a cached store those of ``models.py`` now (the migration is
    edited in place until it ships, so a store generated before an index change lacks it):
    missing ``ix_`` indexes are created, ones no longer declared dropped. What changed."""
    from sqlalchemy import inspect

    from seawall.center.store.models import Base

    engine = connect(url)
    changed: list[str] = []
    inspector = inspect(engine)
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:  # a column added since: with its default
                if column.name not in columns:
                    kind = column.type.compile(engine.dialect)
                    default = column.default.arg if column.default is not None else ""
                    connection.execute(
                        text(
                            f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind} '
                            f"NOT NULL DEFAULT '{default}'"
                        )
                    )
                    changed.append(f"added {table.name}.{column.name}")
            wanted = {index.name: index for index in table.indexes}
            present = {
                i["name"]: list(i["column_names"]) for i in inspector.get_indexes(table.name)
            }
            for name, index in wanted.items():  # redefined: dropped, then created again
                if name in present and present[name] != [c.name for c in index.columns]:
                    connection.execute(text(f'DROP INDEX "{name}"'))
                    del present[name]
                    changed.append(f"redefined {name}")
            for name in sorted(set(present) - set(wanted)):
                if name and name.startswith("ix_"):
                    connection.execute(text(f'DROP INDEX "{name}"'))
                    changed.append(f"dropped {name}")
            for name, index in wanted.items():
                if name not in present:
                    index.create(connection)
                    changed.append(f"created {name}")
    if changed and engine.dialect.name == "postgresql":  # as autovacuum would (SQLite: never)
        subprocess.run(
            ["psql", "-q", "-d", str(engine.url.database), "-c", "VACUUM ANALYZE findings"],
            check=True,
            env=_pg_env(),
        )
    engine.dispose()
    if changed:
        print("  indexes brought in line with models.py: " + ", ".join(changed), flush=True)
    return changed


def fresh_copy(size: Size, backend: str, tag: str) -> tuple[str, Callable[[], None]]:
    """A database URL holding a fresh copy of the cached store, and how to drop it."""
    cached = ensure_cache(size, backend)
    if backend == "sqlite":
        target = WORK / f"run-{tag}-{os.getpid()}.db"
        for leftover in WORK.glob(target.name + "*"):
            leftover.unlink()
        shutil.copyfile(cached, target)

        def drop_file() -> None:
            for leftover in WORK.glob(target.name + "*"):
                leftover.unlink()

        return f"sqlite:///{target}", drop_file
    database = f"seawall_bench_{tag}_{os.getpid()}"
    pg_admin(f'CREATE DATABASE "{database}"')
    subprocess.run(
        ["pg_restore", "-j", "2", "-d", database, str(cached)], check=True, env=_pg_env()
    )
    # a restored dump has no visibility map: vacuumed and analyzed, as autovacuum leaves a
    # database that has been running (index-only scans need the visibility map)
    subprocess.run(
        ["psql", "-q", "-d", database, "-c", "VACUUM ANALYZE"], check=True, env=_pg_env()
    )

    def drop_database() -> None:
        pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    return pg_url(database), drop_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="the small store")
    parser.add_argument("--force", action="store_true", help="generate again")
    parser.add_argument("--no-check", action="store_true", help="skip the spot check")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    for backend in backends:
        start = time.perf_counter()
        path = ensure_cache(size, backend, force=args.force, check=not args.no_check)
        print(
            f"{backend}: {path} ({path.stat().st_size / 1e6:,.0f} MB, "
            f"{time.perf_counter() - start:.0f} s)"
        )


if __name__ == "__main__":
    main()
