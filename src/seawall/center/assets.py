"""Assets in the store: find or create them by their stable key, keep their scope tags and
the links between what runs and the images it runs.

Keys: an image by its config digest; a host by its Docker Engine ID; a cluster by its
``kube-system`` UID; a container by host key and container name, a namespace by cluster key
and name, a Kubernetes object by cluster key, namespace, kind and name (names outlive the
UIDs of re-created objects, and posture follows the name). An envelope that knows a host or
cluster only by name (``name:NAME``) is matched to the asset of that name; an asset first
known by name adopts its real id when one arrives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from seawall.center.store.models import (
    Asset,
    AssetLink,
    AssetTag,
    ImageDigest,
    ImageReference,
)
from seawall.errors import InputError
from seawall.image.reference import parse_reference

BY_NAME = "name:"


def find(session: Session, type_: str, key: str) -> Asset | None:
    return session.scalar(select(Asset).where(Asset.type == type_, Asset.key == key))


def ensure(
    session: Session,
    type_: str,
    key: str,
    name: str,
    now: dt.datetime,
    *,
    parent: Asset | None = None,
    attributes: dict[str, Any] | None = None,
) -> Asset:
    """The asset of ``type_`` and ``key``, created if new, seen ``now``."""
    asset = find(session, type_, key)
    if asset is None:
        asset = Asset(
            type=type_,
            key=key,
            name=name,
            parent_id=parent.id if parent else None,
            first_seen=now,
            last_seen=now,
            attributes=attributes or {},
        )
        session.add(asset)
        session.flush()
        return asset
    asset.last_seen = now
    asset.gone = False
    if name:
        asset.name = name
    if parent is not None:
        asset.parent_id = parent.id
    if attributes is not None:
        asset.attributes = {**asset.attributes, **attributes}
    return asset


def ensure_named(session: Session, type_: str, identity: str, name: str, now: dt.datetime) -> Asset:
    """A host or cluster by its real id, or by name when ``identity`` is ``name:NAME``."""
    if identity.startswith(BY_NAME):
        named = session.scalars(
            select(Asset).where(Asset.type == type_, Asset.name == name).order_by(Asset.id)
        ).first()
        if named is not None:
            return ensure(session, type_, named.key, name, now)
        return ensure(session, type_, identity, name, now)
    provisional = find(session, type_, BY_NAME + name)
    if provisional is not None and find(session, type_, identity) is None:
        provisional.key = identity  # first known by name, now by its id
    return ensure(session, type_, identity, name, now)


def set_tags(session: Session, asset: Asset, tags: Iterable[str]) -> None:
    """Replace the scope tags of ``asset``."""
    wanted = set(tags)
    current = set(session.scalars(select(AssetTag.tag).where(AssetTag.asset_id == asset.id)))
    if wanted == current:
        return
    if current - wanted:
        session.execute(
            delete(AssetTag).where(
                AssetTag.asset_id == asset.id, AssetTag.tag.in_(current - wanted)
            )
        )
    session.add_all(AssetTag(asset_id=asset.id, tag=tag) for tag in wanted - current)


def tags_of(session: Session, asset_id: int) -> set[str]:
    return set(session.scalars(select(AssetTag.tag).where(AssetTag.asset_id == asset_id)))


def normalise_reference(reference: str) -> tuple[str, str, str, str] | None:
    """(full reference, registry, repository, tag) of an image reference, None if it is not
    one (a file name)."""
    try:
        parsed = parse_reference(reference)
    except InputError:
        return None
    return str(parsed), parsed.registry, parsed.repository, parsed.tag


def record_image_names(
    session: Session,
    image: Asset,
    references: Sequence[str],
    digests: Sequence[str],
    now: dt.datetime,
) -> None:
    """The image's names and digests, its registry and repository assets, and the links of
    workloads that were waiting for an image of one of these names."""
    for digest in digests:
        if digest and session.get(ImageDigest, digest) is None:
            session.add(ImageDigest(digest=digest, image_id=image.id))
    full_names = []
    for reference in references:
        parts = normalise_reference(reference)
        if parts is None:
            continue
        full, registry, repository, tag = parts
        full_names.append(full)
        row = session.scalar(
            select(ImageReference).where(
                ImageReference.image_id == image.id, ImageReference.reference == full
            )
        )
        if row is None:
            session.add(
                ImageReference(
                    image_id=image.id,
                    reference=full,
                    registry_host=registry,
                    repository=repository,
                    tag=tag,
                    last_seen=now,
                )
            )
        else:
            row.last_seen = now
        registry_asset = ensure(session, "registry", registry, registry, now)
        set_tags(session, registry_asset, [f"registry:{registry}"])
        repo = ensure(
            session,
            "repository",
            f"{registry}/{repository}",
            repository,
            now,
            parent=registry_asset,
        )
        set_tags(session, repo, [f"registry:{registry}"])
        if image.parent_id is None:
            image.parent_id = repo.id
    if full_names:
        session.execute(
            update(AssetLink)
            .where(AssetLink.target_id.is_(None), AssetLink.reference.in_(full_names))
            .values(target_id=image.id)
        )


def image_by_digest(session: Session, digest: str) -> Asset | None:
    row = session.get(ImageDigest, digest)
    return session.get(Asset, row.image_id) if row else None


def image_by_reference(session: Session, reference: str) -> Asset | None:
    """The image most recently seen under ``reference`` (by digest when it has one)."""
    parts = normalise_reference(reference)
    if parts is None:
        return None
    if "@" in reference:
        found = image_by_digest(session, reference.rpartition("@")[2])
        if found is not None:
            return found
    row = session.scalars(
        select(ImageReference)
        .where(ImageReference.reference == parts[0])
        .order_by(ImageReference.last_seen.desc())
    ).first()
    return session.get(Asset, row.image_id) if row else None


def link(session: Session, runner: Asset, reference: str, image: Asset | None) -> None:
    """``runner`` (a container or workload) runs ``reference`` (resolved to ``image`` when
    known; a later ingest of that image resolves it)."""
    parts = normalise_reference(reference)
    name = parts[0] if parts else reference
    existing = session.get(AssetLink, (runner.id, name))
    if existing is None:
        session.add(
            AssetLink(source_id=runner.id, reference=name, target_id=image.id if image else None)
        )
    elif image is not None and existing.target_id != image.id:
        existing.target_id = image.id


def unlink_all(session: Session, runner_ids: Iterable[int]) -> None:
    ids = list(runner_ids)
    if ids:
        session.execute(delete(AssetLink).where(AssetLink.source_id.in_(ids)))


def refresh_placement(session: Session, image_ids: Iterable[int]) -> None:
    """An image's scope tags (its registries, and the hosts, clusters and namespaces of what
    runs it) and whether it runs anywhere."""
    for image_id in set(image_ids):
        image = session.get(Asset, image_id)
        if image is None:
            continue
        registries = set(
            session.scalars(
                select(ImageReference.registry_host).where(ImageReference.image_id == image_id)
            )
        )
        runners = select(AssetLink.source_id).where(AssetLink.target_id == image_id)
        running = session.scalars(
            select(Asset.id).where(Asset.id.in_(runners), Asset.gone.is_(False))
        ).all()
        placement = set(session.scalars(select(AssetTag.tag).where(AssetTag.asset_id.in_(running))))
        set_tags(session, image, {f"registry:{r}" for r in registries if r} | placement)
        image.running = bool(running)


def images_run_by(session: Session, runner_ids: Iterable[int]) -> set[int]:
    ids = list(runner_ids)
    if not ids:
        return set()
    return {
        target
        for target in session.scalars(
            select(AssetLink.target_id).where(
                AssetLink.source_id.in_(ids), AssetLink.target_id.is_not(None)
            )
        )
        if target is not None
    }


def runners_of(session: Session, image_ids: Iterable[int]) -> set[int]:
    """The containers and workloads that run any of ``image_ids``."""
    ids = list(image_ids)
    if not ids:
        return set()
    return set(session.scalars(select(AssetLink.source_id).where(AssetLink.target_id.in_(ids))))
