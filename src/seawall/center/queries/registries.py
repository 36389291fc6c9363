"""Registries: where the images were pushed, with their repositories and images."""

from __future__ import annotations

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from seawall.center.api.schemas import RegistryItem
from seawall.center.pages import Page, Sort, paginate
from seawall.center.queries.common import scoped
from seawall.center.security.scope import Scope
from seawall.center.store.models import Asset, ImageReference

SORTS = {"name": Sort("name", Asset.name)}


def list_registries(
    session: Session,
    scope: Scope,
    *,
    q: str = "",
    sort: str = "name",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[RegistryItem]:
    statement = scoped(select(Asset).where(Asset.type == "registry", Asset.gone.is_(False)), scope)
    if q:
        statement = statement.where(Asset.name.ilike(f"%{q}%"))
    page = paginate(session, statement, Asset.id, SORTS[sort], cursor, limit)
    registries = [row[0] for row in page.items]
    names = [r.name for r in registries]
    counted: dict[str, tuple[int, int, int]] = {}
    if names:
        rows = session.execute(
            scoped(
                select(
                    ImageReference.registry_host,
                    func.count(distinct(ImageReference.repository)),
                    func.count(distinct(ImageReference.image_id)),
                    func.count(distinct(case((Asset.healthy.is_(False), ImageReference.image_id)))),
                )
                .join(Asset, Asset.id == ImageReference.image_id)
                .where(ImageReference.registry_host.in_(names), Asset.gone.is_(False)),
                scope,
                ImageReference.image_id,
            ).group_by(ImageReference.registry_host)
        )
        counted = {name: (repos, images, bad) for name, repos, images, bad in rows}
    return Page(
        [
            RegistryItem(
                id=r.id,
                name=r.name,
                repositories=counted.get(r.name, (0, 0, 0))[0],
                images=counted.get(r.name, (0, 0, 0))[1],
                unhealthy_images=counted.get(r.name, (0, 0, 0))[2],
                last_seen=r.last_seen,
            )
            for r in registries
        ],
        page.total,
        page.next,
    )
