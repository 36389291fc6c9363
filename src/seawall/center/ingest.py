"""Result envelopes into the store: the one entry point for uploads, agents and the center's
own matching.

Every kind goes through the same steps in one transaction: the asset the envelope is about
(checked against the uploader's scope), the assets inside it (containers, workloads, the
images they run), the rules once each, the findings followed by fingerprint, the counts and
health of what changed, the recommendation states, and a row in ``scans``. An
``Idempotency-Key`` seen before returns the first receipt: a result sent twice is stored
once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, cast

import msgspec
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from seawall.center import assets
from seawall.center.notifications import problems
from seawall.center.posture import evaluate
from seawall.center.security.roles import Principal
from seawall.center.settings import load as load_settings
from seawall.center.store.database import update_rows, upsert
from seawall.center.store.models import (
    AdmissionRow,
    AlertRow,
    Asset,
    ExceptionRow,
    FindingRow,
    ImageReference,
    RuleRow,
    Scan,
    StoredInventory,
)
from seawall.center.tracking import (
    Change,
    ExceptionMatcher,
    Source,
    active_exceptions,
    sync,
    sync_many,
)
from seawall.contract.envelope import AssetType, Envelope, Kind, Result, RuleInfo, severity_of
from seawall.model import Inventory

log = logging.getLogger(__name__)
KIND_OF_FINDINGS = {
    Kind.IMAGE_SCAN: "vulnerability",
    Kind.HOST_AUDIT: "configuration",
    Kind.NODE_AUDIT: "configuration",
    Kind.K8S_SCAN: "policy",
}
# the kinds stored for one type of asset only, and what they are called in a refusal
ASSET_OF_KIND = {
    Kind.ADMISSION: (AssetType.CLUSTER, "admission decisions"),
    Kind.NODE_AUDIT: (AssetType.NODE, "node audits"),
}
WORKLOAD_KINDS = frozenset(
    {
        "Pod",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "CronJob",
        "ReplicationController",
    }
)


class Forbidden(Exception):
    """The principal's scope does not include the envelope's asset."""


class Unsupported(Exception):
    """An envelope of a kind this center does not store."""


class Invalid(Exception):
    """A well-typed envelope the center cannot store as it is: the field and the problem
    (a NUL character, a value longer than its column, an absurd number)."""


class Conflict(Exception):
    """The envelope names something that belongs to another asset (a fingerprint)."""


MAX_TEXT = 1024 * 1024  # characters of any one string
MAX_INTEGER = 2**53  # integers beyond this do not survive JSON everywhere (RFC 7493)
MAX_COUNT = 2**31 - 1  # an alert's count (an INTEGER column)
# the longest value of a field the store keeps in a bounded column or key (``*``: any item)
LIMITS: dict[str, int] = {
    "$.asset.id": 300,
    "$.asset.name": 300,
    "$.asset.manifest_digest": 80,
    "$.asset.config_digest": 80,
    "$.asset.references[*]": 500,
    "$.database.built_at": 40,
    "$.rules[*].id": 300,
    "$.results[*].rule": 300,
    "$.results[*].fingerprint": 32,
    "$.host.containers[*].image": 500,
    "$.host.containers[*].image_id": 80,
    "$.workloads[*].namespace": 63,  # a Kubernetes namespace is a DNS label
    "$.workloads[*].images[*]": 500,
    "$.alerts[*].rule": 300,
    "$.alerts[*].resource.namespace": 63,
    # a node's cluster: the name of a cluster, which may be known by name (``name:NAME``)
    "$.asset.attributes.cluster": 300 - len(assets.BY_NAME),
    "$.asset.attributes.layout": 40,
    "$.node.api_server": 500,
    "$.node.layout": 40,
    "$.node.role": 40,
    "$.node.benchmark": 40,
    "$.node.error": 4000,
}
NODE_ROLES = frozenset({"", "control-plane", "node"})
MAX_COMPONENTS = 64  # a node's components (API server, etcd, kubelet, ...): a handful
MAX_COMPONENT_TEXT = 1000  # a component's name or where its settings were read
_INDEX = re.compile(r"\[\d+\]")


_LONG_NUMBER = re.compile(rb"[0-9]{16,}")  # outside strings: a number near 2**53


def check(envelope: Envelope) -> None:
    """:class:`Invalid` naming the first field the store cannot keep as sent.

    The bounded fields of :data:`LIMITS` are read directly. Every other string and number is
    screened on the encoded bytes at C speed (a NUL escape, a long run of digits, a string
    over :data:`MAX_TEXT`); only a suspicious document is walked value by value to name the
    field, so a normal upload costs about a millisecond here."""
    for pattern, limit in LIMITS.items():
        for path, value in _at(envelope, pattern):
            if isinstance(value, str) and len(value) > limit:
                raise Invalid(f"body: longer than {limit} characters - at `{path}`")
    raw = msgspec.json.encode(envelope)
    pieces = raw.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')
    strings, outside = pieces[1::2], b" ".join(pieces[::2])
    if (
        b"\\u0000" in raw
        or _LONG_NUMBER.search(outside)
        or max(map(len, strings), default=0) > MAX_TEXT
    ):
        for problem in _problems(msgspec.to_builtins(envelope)):
            raise Invalid(f"body: {problem}")
    for index, alert in enumerate(envelope.alerts):
        if not 1 <= alert.count <= MAX_COUNT:
            raise Invalid(f"body: count must be 1 to {MAX_COUNT} - at `$.alerts[{index}].count`")
    if envelope.kind is Kind.NODE_AUDIT:
        for problem in _node_problems(envelope):
            raise Invalid(f"body: {problem}")


def _node_problems(envelope: Envelope) -> Iterator[str]:
    """What a node audit says of its node that the store would not keep: a role that is none
    of a node's, a score that is no percentage, too many or too long components (the other
    fields' lengths are in :data:`LIMITS`)."""
    role = envelope.asset.attributes.get("role", "")
    if role not in NODE_ROLES:
        yield "role must be control-plane or node - at `$.asset.attributes.role`"
    node = envelope.node
    if node is None:
        return
    if node.role not in NODE_ROLES:
        yield "role must be control-plane or node - at `$.node.role`"
    if not 0 <= node.score_percent <= 100:
        yield "score_percent must be 0 to 100 - at `$.node.score_percent`"
    if len(node.components) > MAX_COMPONENTS:
        yield f"more than {MAX_COMPONENTS} components - at `$.node.components`"
    for name, source in node.components.items():
        if max(len(name), len(source)) > MAX_COMPONENT_TEXT:
            yield f"longer than {MAX_COMPONENT_TEXT} characters - at `$.node.components[...]`"


def _at(envelope: Envelope, pattern: str) -> Iterator[tuple[str, object]]:
    """The values at a :data:`LIMITS` pattern (``$.results[*].rule``) with their paths."""
    found: list[tuple[str, object]] = [("$", envelope)]
    for name, every in re.findall(r"\.(\w+)(\[\*\])?", pattern):
        step: list[tuple[str, object]] = []
        for path, value in found:
            child = value.get(name) if isinstance(value, dict) else getattr(value, name, None)
            if child is None:
                continue
            if every:
                step.extend((f"{path}.{name}[{i}]", item) for i, item in enumerate(child))
            else:
                step.append((f"{path}.{name}", child))
        found = step
    return iter(found)


def _problems(document: object) -> Iterator[str]:
    """Every string, key and number of ``document`` (built-in types), checked; iterative,
    whatever the depth."""
    stack: list[tuple[str, object]] = [("$", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                yield f"contains a NUL character - at `{path}`"
            limit = LIMITS.get(_INDEX.sub("[*]", path), MAX_TEXT)
            if len(value) > limit:
                yield f"longer than {limit} characters - at `{path}`"
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if abs(value) > MAX_INTEGER:
                yield f"number out of range (at most {MAX_INTEGER}) - at `{path}`"
        elif isinstance(value, float):
            if not math.isfinite(value):
                yield f"number out of range - at `{path}`"
        elif isinstance(value, dict):
            mapping = _is_map(path)
            for key, item in reversed(value.items()):
                if isinstance(key, str) and ("\x00" in key or len(key) > MAX_TEXT):
                    yield f"a key contains a NUL character or is too long - at `{path}`"
                stack.append((f"{path}[...]" if mapping else f"{path}.{key}", item))
        elif isinstance(value, list | tuple):
            stack.extend((f"{path}[{i}]", value[i]) for i in reversed(range(len(value))))


def _is_map(path: str) -> bool:
    return path.rsplit(".", 1)[-1] in _MAP_FIELDS


_MAP_FIELDS = frozenset(
    {"attributes", "labels", "evidence", "mappings", "statuses", "severities", "components"}
)


@dataclass(frozen=True)
class Receipt:
    scan: int
    kind: str
    asset: str
    duplicate: bool = False
    new: int = 0
    resolved: int = 0
    reopened: int = 0
    needs_matching: bool = False  # an inventory without findings: queue matching


@dataclass
class _Touched:
    """Assets whose counts, health and recommendation states need recomputing."""

    assets: set[int] = field(default_factory=set)
    images: set[int] = field(default_factory=set)

    def add(self, ids: Iterable[int]) -> None:
        self.assets.update(ids)


def ingest(
    session: Session,
    envelope: Envelope,
    principal: Principal,
    now: dt.datetime,
    idempotency_key: str | None = None,
) -> Receipt:
    """Store ``envelope`` (the caller commits)."""
    if idempotency_key:
        earlier = session.scalar(select(Scan).where(Scan.idempotency_key == idempotency_key))
        if earlier is not None:
            source = session.get(Asset, earlier.asset_id)
            return Receipt(earlier.id, earlier.kind, source.name if source else "", True)
    _asset_fits_kind(envelope)
    check(envelope)
    outside = Forbidden(f"{envelope.asset.type} {envelope.asset.name} is outside your scope")
    if not principal.scope.everything:
        # what the upload would change must be in scope as it is now (an asset of another
        # host sent under this host's name, an image claimed for this registry), and as it
        # will be
        for existing in _existing(session, envelope):
            if not principal.scope.permits(assets.tags_of(session, existing.id)):
                raise outside
    source = _source(session, envelope, now)
    if not principal.scope.permits(assets.tags_of(session, source.id)):
        raise outside
    was_healthy = source.healthy
    new_alerts: list[AlertRow] = []
    touched = _Touched(assets={source.id})
    change = None
    if envelope.kind in (Kind.INVENTORY, Kind.IMAGE_SCAN):
        _store_inventory(session, source, envelope, now)
        touched.images.add(source.id)
    if envelope.kind is Kind.HOST_AUDIT:
        _host_contents(session, source, envelope, now, touched)
    elif envelope.kind is Kind.NODE_AUDIT:
        _node_contents(source, envelope)
    elif envelope.kind is Kind.K8S_SCAN:
        _cluster_contents(session, source, envelope, now, touched)
    if envelope.kind in KIND_OF_FINDINGS:
        _fingerprints_are_ours(session, source, envelope)
        change = _findings(session, source, envelope, now, touched)
    if envelope.kind is Kind.ALERTS:
        _rules(session, envelope)
        new_alerts = _alerts(session, source, envelope, now)
    if envelope.kind is Kind.ADMISSION:
        _decisions(session, source, envelope, now)
    _settle(session, touched, now)
    problems.after_ingest(session, source, was_healthy, new_alerts, now)
    scan = _scan(source, envelope, principal, now, idempotency_key)
    session.add(scan)
    session.flush()
    return Receipt(
        scan=scan.id,
        kind=envelope.kind.value,
        asset=source.name,
        new=change.new if change else 0,
        resolved=change.resolved if change else 0,
        reopened=change.reopened if change else 0,
        needs_matching=envelope.kind is Kind.INVENTORY,
    )


def _asset_fits_kind(envelope: Envelope) -> None:
    """:class:`Unsupported` for an asset of a type its kind is not about: decisions of a
    host, a node audit of an image, an image scan of a node."""
    wanted = ASSET_OF_KIND.get(envelope.kind)
    if wanted is not None and envelope.asset.type is not wanted[0]:
        raise Unsupported(f"{wanted[1]} are stored for a {wanted[0]} asset only")
    if envelope.asset.type is AssetType.NODE and envelope.kind is not Kind.NODE_AUDIT:
        raise Unsupported("a node asset comes in node-audit envelopes only")


class Rematch(NamedTuple):
    """One image's re-match, for :func:`ingest_rematches`: the image-scan envelope the center
    made itself from the image's stored inventory, in full (``packages`` None) or from the
    packages of those names alone (the findings of the others are left as they are)."""

    image: Asset
    envelope: Envelope
    packages: frozenset[str] | None = None


def ingest_rematches(
    session: Session, rematches: Sequence[Rematch], principal: Principal, now: dt.datetime
) -> None:
    """Store the re-matches of a few images, in the caller's transaction. Only findings can
    differ from what is stored, so the images' names, digests, placement and inventories are
    left as they are, the envelopes (the center's own) are not checked again, and the
    containers and workloads that run an image are evaluated again only when its health
    changed: the parts of :func:`ingest` that cost a re-match most of its time. The images
    go together: their rules in one upsert, their findings followed in one
    :func:`~seawall.center.tracking.sync_many`, counts and health recomputed once for those
    whose findings changed."""
    was_healthy = {rematch.image.id: rematch.image.healthy for rematch in rematches}
    session.add_all(_scan(r.image, r.envelope, principal, now, None) for r in rematches)
    _store_rules(session, list({i.id: i for r in rematches for i in r.envelope.rules}.values()))
    active = active_exceptions(session)
    repositories = _repositories(session, [r.image.id for r in rematches])
    sources = [
        Source(
            image.id,
            [(result, image.id) for result in envelope.results],
            _exceptions(image, envelope, active, repositories.get(image.id, ()), now),
            packages,
        )
        for image, envelope, packages in rematches
    ]
    changes = sync_many(session, KIND_OF_FINDINGS[Kind.IMAGE_SCAN], sources, now)
    for rematch in rematches:
        rematch.image.last_scanned = now
    digests = [  # of a part: not known
        {
            "image_id": r.image.id,
            "results_digest": None if r.packages else results_digest(r.envelope),
        }
        for r in rematches
    ]
    update_rows(session, cast(Table, StoredInventory.__table__), "image_id", digests)
    # the findings of an image are its own: the images whose findings changed are recounted
    rewritten = {
        r.image.id for r, change in zip(rematches, changes, strict=True) if change.rewritten
    }
    if rewritten:
        _settle(session, _Touched(assets=rewritten), now)
    flipped = [r.image.id for r in rematches if r.image.healthy != was_healthy[r.image.id]]
    if flipped:  # what runs an image is judged by its health alone
        evaluate.evaluate(session, assets.runners_of(session, flipped), now)
    if problems.anyone_listening(session):  # else one query per image for nothing
        for rematch in rematches:
            problems.after_ingest(session, rematch.image, was_healthy[rematch.image.id], [], now)


def _findings(
    session: Session, source: Asset, envelope: Envelope, now: dt.datetime, touched: _Touched
) -> Change:
    """The envelope's rules and findings stored, followed from the last scan."""
    _rules(session, envelope)
    repositories = _repositories(session, [source.id]) if source.type == "image" else {}
    change = sync(
        session,
        source.id,
        KIND_OF_FINDINGS[envelope.kind],
        _placed(session, source, envelope),
        _exceptions(
            source, envelope, active_exceptions(session), repositories.get(source.id, ()), now
        ),
        now,
    )
    touched.add(change.assets)
    source.last_scanned = now
    return change


def _scan(
    source: Asset,
    envelope: Envelope,
    principal: Principal,
    now: dt.datetime,
    idempotency_key: str | None,
) -> Scan:
    """The record of this upload (the scans list, idempotency), to add to the session."""
    return Scan(
        kind=envelope.kind.value,
        asset_id=source.id,
        produced_at=_parse_time(envelope.produced_at, now),
        received_at=now,
        tool_version=envelope.tool.version[:40],
        database=envelope.database.built_at[:40] if envelope.database else "",
        results=len(envelope.results) + len(envelope.alerts) + len(envelope.decisions),
        principal=principal.name[:120],
        idempotency_key=idempotency_key or None,
    )


def unchanged_rematches(
    session: Session, envelopes: dict[int, Envelope], now: dt.datetime
) -> set[int]:
    """For a re-match of stored images (same inventories, newer advisories), by image id:
    the images whose findings are the ones stored (the :func:`results_digest` of their last
    scan: same fingerprints, statuses, severities and fixed versions). For those, the
    advisories' text and the scan time are refreshed here, in one statement each, instead of
    the full ingest (which rewrites every finding and re-evaluates the image): the case of an
    advisory update that touched a package but changed nothing it reports. The others need
    :func:`ingest_rematches`."""
    stored = {
        image_id: digest
        for image_id, digest in session.execute(
            select(StoredInventory.image_id, StoredInventory.results_digest).where(
                StoredInventory.image_id.in_(list(envelopes))
            )
        )
    }
    same = {
        image_id
        for image_id, envelope in envelopes.items()
        if envelope.kind is Kind.IMAGE_SCAN
        and stored.get(image_id) is not None
        and stored[image_id] == results_digest(envelope)
    }
    if same:
        rules = {rule.id: rule for image_id in same for rule in envelopes[image_id].rules}
        _store_rules(session, list(rules.values()))
        session.execute(update(Asset).where(Asset.id.in_(same)).values(last_scanned=now))
    return same


def results_digest(envelope: Envelope) -> str:
    """What an image scan reports, as :func:`unchanged_rematches` compares it."""
    reported = sorted(
        (r.fingerprint, r.status.value, int(severity_of(r.severity)), r.fixed_version[:200])
        for r in envelope.results
    )
    return hashlib.sha256(msgspec.json.encode(reported)).hexdigest()[:32]


def _parse_time(text: str, default: dt.datetime) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return default
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _fingerprints_are_ours(session: Session, source: Asset, envelope: Envelope) -> None:
    """:class:`Conflict` if a result's fingerprint is a finding of another asset's scans
    (fingerprints are unique across the store: they include the asset's identity)."""
    position = {result.fingerprint: index for index, result in enumerate(envelope.results)}
    fingerprints = list(position)
    with session.no_autoflush:
        for start in range(0, len(fingerprints), 500):
            taken = session.scalars(
                select(FindingRow.fingerprint).where(
                    FindingRow.fingerprint.in_(fingerprints[start : start + 500]),
                    FindingRow.source_id != source.id,
                )
            ).first()
            if taken is not None:
                raise Conflict(
                    f"body: fingerprint {taken} is a finding of another asset - at "
                    f"`$.results[{position[taken]}].fingerprint`"
                )


def _existing(session: Session, envelope: Envelope) -> list[Asset]:
    """The stored assets :func:`_source` would update for ``envelope`` (none if it is new):
    found the same way, without changing anything."""
    described = envelope.asset
    type_ = described.type.value
    if described.type is AssetType.IMAGE:
        found = [assets.find(session, type_, described.id[:300])]
        found += [
            assets.image_by_digest(session, d)
            for d in (described.config_digest, described.manifest_digest)
            if d
        ]
    elif described.id.startswith(assets.BY_NAME):
        found = [
            session.scalars(
                select(Asset)
                .where(Asset.type == type_, Asset.name == described.name[:300])
                .order_by(Asset.id)
            ).first()
        ]
    else:
        found = [
            assets.find(session, type_, described.id[:300]),
            assets.find(session, type_, assets.BY_NAME + described.name[:300]),
        ]
    unique = {asset.id: asset for asset in found if asset is not None}
    return list(unique.values())


def _source(session: Session, envelope: Envelope, now: dt.datetime) -> Asset:
    """The asset the envelope is about, its names and its scope tags."""
    described = envelope.asset
    if described.type is AssetType.IMAGE:
        image = assets.ensure(
            session,
            "image",
            described.id[:300],
            described.name[:300],
            now,
            attributes={"platform": described.platform, **described.attributes},
        )
        digests = [d for d in (described.config_digest, described.manifest_digest) if d]
        assets.record_image_names(session, image, described.references, digests, now)
        assets.refresh_placement(session, [image.id])
        return image
    if described.type is AssetType.NODE:
        return _node(session, envelope, now)
    type_ = described.type.value
    asset = assets.ensure_named(session, type_, described.id[:300], described.name[:300], now)
    asset.attributes = {**asset.attributes, **described.attributes}
    assets.set_tags(session, asset, [f"{type_}:{asset.name}"])
    return asset


NODE_ATTRIBUTES = ("cluster", "layout", "role")  # of the asset; the rest is in its details


def _node(session: Session, envelope: Envelope, now: dt.datetime) -> Asset:
    """A Kubernetes node by its machine id (or name), under the cluster its audit names and
    tagged with it (so a scope of that cluster holds its nodes). The cluster is the one of
    that name; when none is known yet it is made as a k8s-scan of ``name:NAME`` makes it,
    so the cluster's own scans land on it later. Without a cluster the node stands alone,
    untagged: only an unscoped principal sees it."""
    described = envelope.asset
    node = assets.ensure_named(session, "node", described.id[:300], described.name[:300], now)
    # replaced, not merged: a node taken out of its cluster loses it
    node.attributes = {k: v for k, v in described.attributes.items() if k in NODE_ATTRIBUTES and v}
    name = node.attributes.get("cluster", "")
    cluster = (
        assets.ensure_named(session, "cluster", assets.BY_NAME + name, name, now) if name else None
    )
    tags = [f"cluster:{cluster.name}"] if cluster else []
    if cluster is not None:
        assets.set_tags(session, cluster, tags)
    node.parent_id = cluster.id if cluster else None
    assets.set_tags(session, node, tags)
    return node


def _store_inventory(session: Session, image: Asset, envelope: Envelope, now: dt.datetime) -> None:
    inventory = envelope.inventory
    if inventory is None:
        return
    data = zlib.compress(msgspec.json.encode(inventory), 6)
    row = session.get(StoredInventory, image.id)
    matched = envelope.database.built_at if envelope.database else ""
    if row is None:
        row = StoredInventory(image_id=image.id, results_digest=None)
        session.add(row)
    row.data, row.packages, row.updated_at = data, len(inventory.packages), now
    row.matched_with, row.footprint = matched, None
    if envelope.kind is Kind.IMAGE_SCAN:  # an SBOM alone leaves the findings as they are
        row.results_digest = results_digest(envelope)
    image.attributes = {
        **image.attributes,
        "distro": inventory.distro.pretty if inventory.distro else "",
        "packages": len(inventory.packages),
        "layers": len(inventory.image.layers),
    }


def load_inventory(session: Session, image_id: int) -> Inventory | None:
    return load_inventories(session, [image_id]).get(image_id)


def load_inventories(session: Session, image_ids: list[int]) -> dict[int, Inventory]:
    """The stored inventories of ``image_ids`` (those that have a readable one), in one
    query."""
    found: dict[int, Inventory] = {}
    for image_id, data in session.execute(
        select(StoredInventory.image_id, StoredInventory.data).where(
            StoredInventory.image_id.in_(image_ids)
        )
    ):
        try:
            found[image_id] = msgspec.json.decode(zlib.decompress(data), type=Inventory)
        except (zlib.error, msgspec.DecodeError) as exc:  # written by an older center
            log.warning("stored inventory of image %s is unreadable: %s", image_id, exc)
    return found


def _host_contents(
    session: Session, host: Asset, envelope: Envelope, now: dt.datetime, touched: _Touched
) -> None:
    """The host's details and containers, and the images they run."""
    details = envelope.host
    if details is None:
        return
    host.attributes = {
        **host.attributes,
        **msgspec.to_builtins(details),
        "containers": len(details.containers),
    }
    before = set(
        session.scalars(
            select(Asset.id).where(Asset.parent_id == host.id, Asset.type == "container")
        )
    )
    seen: set[int] = set()
    tags = [f"host:{host.name}"]
    for container in details.containers:
        row = assets.ensure(
            session,
            "container",
            f"{host.key}/{container.name}"[:300],
            container.name[:300],
            now,
            parent=host,
            attributes={
                "container_id": container.id,
                "image": container.image,
                "image_id": container.image_id,
                "running": container.running,
                "labels": container.labels,
            },
        )
        row.running = container.running
        assets.set_tags(session, row, tags)
        seen.add(row.id)
        image = None
        if container.image_id:
            image = assets.image_by_digest(session, container.image_id)
            if image is None:  # running but never scanned: it appears in the inventory
                image = assets.ensure(
                    session,
                    "image",
                    container.image_id,
                    container.image[:300],
                    now,
                    attributes={"source": "docker-host"},
                )
                assets.record_image_names(session, image, [], [container.image_id], now)
        assets.unlink_all(session, [row.id])
        assets.link(session, row, container.image, image)
        if image is not None:
            touched.images.add(image.id)
    gone = before - seen
    _mark_gone(session, gone, touched)
    touched.add(seen)


def _node_contents(node: Asset, envelope: Envelope) -> None:
    """The node's details (layout, role, API server, benchmark, where each component's
    settings were read, score) beside its identity attributes; its cluster stays the one
    the asset names."""
    details = envelope.node
    if details is None:
        return
    stored = {k: v for k, v in msgspec.to_builtins(details).items() if k != "cluster"}
    node.attributes = {**node.attributes, **stored}


def _cluster_contents(
    session: Session, cluster: Asset, envelope: Envelope, now: dt.datetime, touched: _Touched
) -> None:
    """The cluster's namespaces and objects, and the images its workloads run."""
    before = set(
        session.scalars(
            select(Asset.id).where(
                Asset.type.in_(("workload", "k8s_resource")),
                Asset.key.startswith(cluster.key + "/", autoescape=True),
            )
        )
    )
    seen: set[int] = set()
    namespaces: dict[str, Asset] = {}
    for workload in envelope.workloads:
        parent = cluster
        tags = [f"cluster:{cluster.name}"]
        if workload.namespace:
            tags.append(f"namespace:{cluster.name}/{workload.namespace}")
            parent = namespaces.get(workload.namespace) or _namespace(
                session, cluster, workload.namespace, now
            )
            namespaces[workload.namespace] = parent
        runs_pods = bool(workload.images) or workload.kind in WORKLOAD_KINDS
        row = assets.ensure(
            session,
            "workload" if runs_pods else "k8s_resource",
            _object_key(cluster, workload.namespace, workload.kind, workload.name),
            workload.name[:300],
            now,
            parent=parent,
            attributes={
                "kind": workload.kind,
                "namespace": workload.namespace,
                "uid": workload.uid,
                "api_version": workload.api_version,
                "images": list(workload.images),
                "labels": workload.labels,
            },
        )
        assets.set_tags(session, row, tags)
        seen.add(row.id)
        assets.unlink_all(session, [row.id])
        for reference in workload.images:
            image = assets.image_by_reference(session, reference)
            assets.link(session, row, reference, image)
            if image is not None:
                touched.images.add(image.id)
        row.running = bool(workload.images)
    _mark_gone(session, before - seen, touched)
    touched.add(seen)


def _namespace(session: Session, cluster: Asset, name: str, now: dt.datetime) -> Asset:
    row = assets.ensure(
        session, "namespace", f"{cluster.key}/{name}"[:300], name[:300], now, parent=cluster
    )
    assets.set_tags(session, row, [f"cluster:{cluster.name}", f"namespace:{cluster.name}/{name}"])
    return row


def _object_key(cluster: Asset, namespace: str, kind: str, name: str) -> str:
    return f"{cluster.key}/{namespace}/{kind}/{name}"[:300]


def _mark_gone(session: Session, ids: set[int], touched: _Touched) -> None:
    if not ids:
        return
    touched.images.update(assets.images_run_by(session, ids))
    session.execute(update(Asset).where(Asset.id.in_(ids)).values(gone=True, running=False))
    evaluate.forget_gone(session, ids)


def _placed(session: Session, source: Asset, envelope: Envelope) -> list[tuple[Result, int]]:
    """Each result with the asset it is about: a container, an image, a workload, or the
    source itself (an image's vulnerabilities, a node's CIS checks)."""
    if envelope.kind in (Kind.IMAGE_SCAN, Kind.NODE_AUDIT):  # about the asset itself
        return [(r, source.id) for r in envelope.results]
    by_key: dict[tuple[str, str], int] = {}
    if envelope.kind is Kind.HOST_AUDIT:
        rows = session.execute(
            select(Asset.name, Asset.id).where(
                Asset.parent_id == source.id, Asset.type == "container"
            )
        )
        by_key = {("container", name): asset_id for name, asset_id in rows}
    else:
        prefix = source.key + "/"
        rows = session.execute(
            select(Asset.key, Asset.id).where(
                Asset.type.in_(("workload", "k8s_resource")),
                Asset.key.startswith(prefix, autoescape=True),
            )
        )
        by_key = {("object", key): asset_id for key, asset_id in rows}
    placed = []
    for result in envelope.results:
        resource = result.resource
        asset_id = source.id
        if envelope.kind is Kind.HOST_AUDIT:
            if resource.kind == "container":
                asset_id = by_key.get(("container", resource.name), source.id)
            elif resource.kind == "image" and resource.id:
                image = assets.image_by_digest(session, resource.id)
                asset_id = image.id if image else source.id
        else:
            key = _object_key(source, resource.namespace, resource.kind, resource.name)
            asset_id = by_key.get(("object", key), source.id)
        placed.append((result, asset_id))
    return placed


def _repositories(session: Session, image_ids: list[int]) -> dict[int, list[str]]:
    """The repositories (``registry/repository``) each image is known in."""
    found: dict[int, list[str]] = {}
    rows = session.execute(
        select(
            ImageReference.image_id, ImageReference.registry_host, ImageReference.repository
        ).where(ImageReference.image_id.in_(image_ids))
    )
    for image_id, registry, repository in rows:
        found.setdefault(image_id, []).append(f"{registry}/{repository}")
    return found


def _exceptions(
    source: Asset,
    envelope: Envelope,
    active: list[ExceptionRow],
    repositories: Iterable[str],
    now: dt.datetime,
) -> ExceptionMatcher:
    """Which of the ``active`` exceptions cover the results of ``source``: those of
    everything, of one of its ``repositories`` (an image's), or of one of its digests."""
    digests: list[str] = [source.key]
    if source.type == "image":
        digests += [d for d in (envelope.asset.manifest_digest, envelope.asset.config_digest) if d]
    aliases = {rule.id: rule.aliases for rule in envelope.rules if rule.aliases}
    return ExceptionMatcher(active, repositories, digests, aliases, now)


def _rules(session: Session, envelope: Envelope) -> None:
    _store_rules(session, envelope.rules)


def _store_rules(session: Session, rules: Sequence[RuleInfo]) -> None:
    """Each rule once: new ones inserted, changed ones updated (advisories get revised).

    Rules are compared by the digest of their text first, so the usual upload (advisories
    the center has seen) writes nothing; new and changed ones go in one multi-row upsert."""
    if not rules:
        return
    rows = {}
    for rule in rules:
        data = msgspec.to_builtins(rule)
        rows[rule.id] = {
            "id": rule.id,
            "title": rule.title,
            "severity": int(severity_of(rule.severity)),
            "data": data,
            "digest": hashlib.sha256(msgspec.json.encode(data)).hexdigest()[:32],
        }
    known = {
        rule_id: digest
        for rule_id, digest in session.execute(
            select(RuleRow.id, RuleRow.digest).where(RuleRow.id.in_(list(rows)))
        )
    }
    # in the order of their ids: concurrent upserts then lock the rows in the same order
    # (in any order two jobs storing rules in common deadlock on PostgreSQL)
    changed = [row for rule_id, row in sorted(rows.items()) if known.get(rule_id) != row["digest"]]
    for start in range(0, len(changed), 500):
        statement = upsert(session, RuleRow).values(changed[start : start + 500])
        statement = statement.on_conflict_do_update(
            index_elements=[RuleRow.id],
            set_={
                "title": statement.excluded.title,
                "severity": statement.excluded.severity,
                "data": statement.excluded.data,
                "digest": statement.excluded.digest,
            },
        )
        session.execute(statement)


def _alerts(
    session: Session, source: Asset, envelope: Envelope, now: dt.datetime
) -> list[AlertRow]:
    """New alerts are stored (and returned); an alert sent again (its final count when its
    fold window closed) updates its count and last time, never its status."""
    namespaces: dict[str, Asset] = {}
    new: list[AlertRow] = []
    for alert in envelope.alerts:
        target = source
        namespace = alert.resource.namespace
        if namespace and source.type == "cluster":
            target = namespaces.get(namespace) or _namespace(session, source, namespace, now)
            namespaces[namespace] = target
        first = _parse_time(alert.time, now)
        last = _parse_time(alert.last_time, first)
        row = session.scalar(
            select(AlertRow).where(
                AlertRow.source_id == source.id, AlertRow.alert_id == alert.id[:100]
            )
        )
        if row is not None:
            row.count = max(row.count, alert.count)
            row.last_time = max(row.last_time, last)
            continue
        row = AlertRow(
            alert_id=alert.id[:100],
            source_id=source.id,
            asset_id=target.id,
            rule_id=alert.rule[:300],
            title=alert.title,
            severity=int(severity_of(alert.severity)),
            time=first,
            last_time=last,
            count=alert.count,
            source=alert.source[:30],
            tactic=alert.tactic[:100],
            technique=alert.technique[:50],
            resource=msgspec.to_builtins(alert.resource),
            evidence=dict(alert.evidence),
            remediation=alert.remediation,
        )
        session.add(row)
        new.append(row)
    return new


def _decisions(session: Session, cluster: Asset, envelope: Envelope, now: dt.datetime) -> None:
    """The webhook's decisions, each review once (a batch sent again changes nothing)."""
    rows = [
        {
            "cluster_id": cluster.id,
            "uid": d.uid[:100],
            "time": _parse_time(d.time, now),
            "operation": d.operation[:20],
            "kind": d.kind[:100],
            "namespace": d.namespace[:300],
            "name": d.name[:300],
            "user": d.user[:300],
            "mode": d.mode[:20],
            "allowed": d.allowed,
            "would_deny": d.would_deny,
            "violations": list(d.violations),
            "warnings": list(d.warnings),
            "errors": list(d.errors),
            "ms": d.ms if math.isfinite(d.ms) else 0.0,
        }
        for d in envelope.decisions
    ]
    for start in range(0, len(rows), 500):
        statement = upsert(session, AdmissionRow).values(rows[start : start + 500])
        session.execute(statement.on_conflict_do_nothing(index_elements=["cluster_id", "uid"]))


def _settle(session: Session, touched: _Touched, now: dt.datetime) -> None:
    """Counts, health and recommendation states of everything the ingest touched, then of
    the images whose placement changed and of what runs them."""
    session.flush()
    threshold = load_settings(session).threshold
    evaluate.refresh_counts(session, touched.assets)
    evaluate.refresh_health(session, touched.assets, threshold)
    assets.refresh_placement(session, touched.images)
    others = touched.images - touched.assets  # images of containers and workloads
    evaluate.refresh_counts(session, others)
    evaluate.refresh_health(session, others, threshold)
    runners = assets.runners_of(session, touched.images)
    evaluate.evaluate(session, touched.assets | touched.images | runners, now)
