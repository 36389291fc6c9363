"""Images: the list (running first by default), one image by any of its digests, where it
runs."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from seawall.center.api.schemas import ImageDetail, ImageItem, Placement
from seawall.center.pages import Page, Sort, paginate
from seawall.center.queries.common import NotFound, counts, scoped, visible, where_label
from seawall.center.security.scope import Scope
from seawall.center.store.models import (
    Asset,
    AssetLink,
    ImageDigest,
    ImageReference,
    StoredInventory,
)

SORTS = {
    "running": Sort("running", Asset.running, descending=True),
    "critical": Sort("critical", Asset.critical, descending=True),
    "high": Sort("high", Asset.high, descending=True),
    "name": Sort("name", Asset.name),
    "last_scanned": Sort("last_scanned", Asset.last_scanned, descending=True, is_time=True),
    "first_seen": Sort("first_seen", Asset.first_seen, descending=True, is_time=True),
}


def _items(session: Session, images: list[Asset]) -> list[ImageItem]:
    ids = [i.id for i in images]
    references: dict[int, list[str]] = defaultdict(list)
    digests: dict[int, list[str]] = defaultdict(list)
    if ids:
        for image_id, reference in session.execute(
            select(ImageReference.image_id, ImageReference.reference)
            .where(ImageReference.image_id.in_(ids))
            .order_by(ImageReference.last_seen.desc())
        ):
            references[image_id].append(reference)
        for image_id, digest in session.execute(
            select(ImageDigest.image_id, ImageDigest.digest).where(ImageDigest.image_id.in_(ids))
        ):
            digests[image_id].append(digest)
    return [
        ImageItem(
            id=image.id,
            digest=image.key,
            manifest_digests=sorted(d for d in digests[image.id] if d != image.key),
            references=references[image.id],
            name=image.name,
            healthy=image.healthy,
            running=image.running,
            counts=counts(image),
            last_scanned=image.last_scanned,
            first_seen=image.first_seen,
            platform=str(image.attributes.get("platform", "")),
            distro=str(image.attributes.get("distro", "")),
            packages=image.attributes.get("packages"),
        )
        for image in images
    ]


def list_images(
    session: Session,
    scope: Scope,
    *,
    q: str = "",
    healthy: bool | None = None,
    running: bool | None = None,
    registry: str = "",
    sort: str = "running",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ImageItem]:
    statement = scoped(select(Asset).where(Asset.type == "image", Asset.gone.is_(False)), scope)
    if q:
        text = q.lower()  # % and _ are characters here, not wildcards
        named = select(ImageReference.image_id).where(
            ImageReference.reference.contains(text, autoescape=True)
        )
        statement = statement.where(
            or_(
                Asset.name.icontains(text, autoescape=True),
                Asset.key.contains(text, autoescape=True),
                Asset.id.in_(named),
            )
        )
    if healthy is not None:
        statement = statement.where(Asset.healthy.is_(healthy))
    if running is not None:
        statement = statement.where(Asset.running.is_(running))
    if registry:
        statement = statement.where(
            Asset.id.in_(
                select(ImageReference.image_id).where(ImageReference.registry_host == registry)
            )
        )
    page = paginate(session, statement, Asset.id, SORTS[sort], cursor, limit)
    images = [row[0] for row in page.items]
    return Page(items=_items(session, images), total=page.total, next=page.next)


def find_image(session: Session, scope: Scope, digest: str) -> Asset:
    """An image by its config digest or one of its manifest digests."""
    row = session.get(ImageDigest, digest)
    image = session.get(Asset, row.image_id) if row else None
    if image is None:
        image = session.scalar(select(Asset).where(Asset.type == "image", Asset.key == digest))
    if image is None:
        raise NotFound(f"no image {digest}")
    return visible(session, scope, image.id, "image")


def placements(session: Session, image: Asset) -> list[Placement]:
    rows = session.execute(
        select(Asset, AssetLink.reference)
        .join(AssetLink, AssetLink.source_id == Asset.id)
        .where(AssetLink.target_id == image.id, Asset.gone.is_(False))
        .order_by(Asset.type, Asset.name)
        .limit(500)
    )
    return [
        Placement(
            type=runner.type,
            id=runner.id,
            name=runner.name,
            where=where_label(session, runner),
            reference=reference,
        )
        for runner, reference in rows
    ]


def image_detail(session: Session, scope: Scope, digest: str) -> ImageDetail:
    image = find_image(session, scope, digest)
    (item,) = _items(session, [image])
    inventory = session.get(StoredInventory, image.id)
    layers: list[dict[str, object]] = []
    if inventory is not None:
        from seawall.center.ingest import load_inventory

        stored = load_inventory(session, image.id)
        if stored is not None:
            layers = [
                {"index": layer.index, "digest": layer.digest, "created_by": layer.created_by}
                for layer in stored.image.layers
            ]
    return ImageDetail(
        **item.model_dump(),
        runs_on=placements(session, image),
        database=inventory.matched_with if inventory else "",
        layers=layers,
    )


def images_of(session: Session, runner_ids: list[int]) -> dict[int, list[tuple[str, Asset | None]]]:
    """What each container or workload runs: ``{runner: [(reference, image or None)]}``
    (None while the center has not seen that image), in one query."""
    if not runner_ids:
        return {}
    found: dict[int, list[tuple[str, Asset | None]]] = defaultdict(list)
    rows = session.execute(
        select(AssetLink.source_id, AssetLink.reference, Asset)
        .join(Asset, Asset.id == AssetLink.target_id, isouter=True)
        .where(AssetLink.source_id.in_(runner_ids))
        .order_by(AssetLink.source_id, AssetLink.reference)
    )
    for source_id, reference, image in rows:
        found[source_id].append((reference, image))
    return dict(found)
