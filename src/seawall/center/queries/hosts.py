"""Docker hosts and their containers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.center.api.schemas import ContainerItem, HostDetail, HostItem
from seawall.center.pages import Page, Sort, paginate
from seawall.center.queries.common import counts, scoped, visible
from seawall.center.security.scope import Scope
from seawall.center.store.models import Asset

SORTS = {
    "name": Sort("name", Asset.name),
    "critical": Sort("critical", Asset.critical, descending=True),
    "high": Sort("high", Asset.high, descending=True),
    "last_scanned": Sort("last_scanned", Asset.last_scanned, descending=True, is_time=True),
}


def _item(host: Asset) -> HostItem:
    a = host.attributes
    return HostItem(
        id=host.id,
        key=host.key,
        name=host.name,
        healthy=host.healthy,
        counts=counts(host),
        last_scanned=host.last_scanned,
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
    statement = scoped(select(Asset).where(Asset.type == "host", Asset.gone.is_(False)), scope)
    if q:
        statement = statement.where(Asset.name.icontains(q, autoescape=True))
    if healthy is not None:
        statement = statement.where(Asset.healthy.is_(healthy))
    page = paginate(session, statement, Asset.id, SORTS[sort], cursor, limit)
    return Page([_item(row[0]) for row in page.items], page.total, page.next)


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
