"""Docker hosts and their containers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.center.api.schemas import ContainerItem, HostDetail, HostItem
from seawall.center.pages import Page
from seawall.center.queries.common import ASSESSED_SORTS, assessed, assets_page, counts, visible
from seawall.center.security.scope import Scope
from seawall.center.store.models import Asset

SORTS = ASSESSED_SORTS


def _item(host: Asset) -> HostItem:
    a = host.attributes
    return HostItem(
        **assessed(host),
        docker_version=str(a.get("docker_version", "")),
        os=str(a.get("os", "")),
        engine=str(a.get("engine", "")),
        containers=int(a.get("containers", 0) or 0),
        images=int(a.get("images", 0) or 0),
        score_percent=a.get("score_percent"),
    )


def list_hosts(
    session: Session,
    scope: Scope,
    *,
    q: str = "",
    healthy: bool | None = None,
    sort: str = "name",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[HostItem]:
    page = assets_page(session, scope, "host", SORTS[sort], cursor, limit, q=q, healthy=healthy)
    return Page([_item(host) for host in page.items], page.total, page.next)


def host_detail(session: Session, scope: Scope, host_id: int) -> HostDetail:
    host = visible(session, scope, host_id, "host")
    containers = session.scalars(
        select(Asset)
        .where(Asset.parent_id == host.id, Asset.type == "container", Asset.gone.is_(False))
        .order_by(Asset.name)
    )
    a = host.attributes
    return HostDetail(
        **_item(host).model_dump(),
        kernel=str(a.get("kernel", "")),
        endpoint=str(a.get("endpoint", "")),
        containers_running=int(a.get("containers_running", 0) or 0),
        containers_list=[
            ContainerItem(
                id=c.id,
                name=c.name,
                container_id=str(c.attributes.get("container_id", "")),
                image=str(c.attributes.get("image", "")),
                image_id=str(c.attributes.get("image_id", "")),
                running=c.running,
                healthy=c.healthy,
                counts=counts(c),
            )
            for c in containers
        ],
    )
