"""Clusters and their workloads (their nodes: :mod:`seawall.center.queries.nodes`)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seawall.center.api.schemas import ClusterItem, WorkloadItem
from seawall.center.pages import Page, Sort, paginate
from seawall.center.queries.common import NotFound, assessed, counts, scoped, visible
from seawall.center.security.scope import Scope
from seawall.center.store.models import Asset

CLUSTER_SORTS = {
    "name": Sort("name", Asset.name),
    "critical": Sort("critical", Asset.critical, descending=True),
    "last_scanned": Sort("last_scanned", Asset.last_scanned, descending=True, is_time=True),
}
WORKLOAD_SORTS = {
    "name": Sort("name", Asset.name),
    "critical": Sort("critical", Asset.critical, descending=True),
    "high": Sort("high", Asset.high, descending=True),
}


def _cluster_item(session: Session, cluster: Asset) -> ClusterItem:
    namespaces = session.scalar(
        select(func.count()).where(Asset.parent_id == cluster.id, Asset.type == "namespace")
    )
    workloads = session.scalar(
        select(func.count()).where(
            Asset.type == "workload",
            Asset.gone.is_(False),
            Asset.key.startswith(cluster.key + "/", autoescape=True),
        )
    )
    nodes = session.scalar(
        select(func.count()).where(
            Asset.parent_id == cluster.id, Asset.type == "node", Asset.gone.is_(False)
        )
    )
    return ClusterItem(
        **assessed(cluster),
        source=str(cluster.attributes.get("source", "")),
        namespaces=int(namespaces or 0),
        workloads=int(workloads or 0),
        nodes=int(nodes or 0),
    )


def list_clusters(
    session: Session,
    scope: Scope,
    *,
    sort: str = "name",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ClusterItem]:
    statement = scoped(select(Asset).where(Asset.type == "cluster"), scope)
    page = paginate(session, statement, Asset.id, CLUSTER_SORTS[sort], cursor, limit)
    return Page([_cluster_item(session, row[0]) for row in page.items], page.total, page.next)


def cluster_detail(session: Session, scope: Scope, cluster_id: int) -> ClusterItem:
    return _cluster_item(session, visible(session, scope, cluster_id, "cluster"))


def list_workloads(
    session: Session,
    scope: Scope,
    *,
    cluster: int | None = None,
    namespace: str = "",
    kind: str = "",
    healthy: bool | None = None,
    q: str = "",
    include_other: bool = False,
    sort: str = "critical",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[WorkloadItem]:
    """Workloads (objects that run pods); with ``include_other``, every assessed object.
    An object's key starts with its cluster's key, then its namespace, kind and name."""
    types = ("workload", "k8s_resource") if include_other else ("workload",)
    statement = scoped(select(Asset).where(Asset.type.in_(types), Asset.gone.is_(False)), scope)
    if cluster is not None:
        owner = visible(session, scope, cluster, "cluster")
        prefix = f"{owner.key}/{namespace}/" if namespace else f"{owner.key}/"
        statement = statement.where(Asset.key.startswith(prefix, autoescape=True))
    elif namespace:
        statement = statement.where(
            Asset.parent_id.in_(
                select(Asset.id).where(Asset.type == "namespace", Asset.name == namespace)
            )
        )
    if kind:
        statement = statement.where(Asset.key.contains(f"/{kind}/", autoescape=True))
    if healthy is not None:
        statement = statement.where(Asset.healthy.is_(healthy))
    if q:
        statement = statement.where(Asset.name.icontains(q, autoescape=True))
    page = paginate(session, statement, Asset.id, WORKLOAD_SORTS[sort], cursor, limit)
    clusters = {
        key: name
        for key, name in session.execute(
            select(Asset.key, Asset.name).where(Asset.type == "cluster")
        )
    }
    return Page(
        [_workload_item(workload, clusters) for (workload,) in page.items], page.total, page.next
    )


def _workload_item(workload: Asset, clusters: dict[str, str]) -> WorkloadItem:
    a = workload.attributes
    return WorkloadItem(
        id=workload.id,
        cluster=clusters.get(workload.key.partition("/")[0], ""),
        namespace=str(a.get("namespace", "")),
        kind=str(a.get("kind", "")),
        name=workload.name,
        images=list(a.get("images") or []),
        healthy=workload.healthy,
        counts=counts(workload),
        last_seen=workload.last_seen,
    )


def workload_detail(session: Session, scope: Scope, workload_id: int) -> tuple[WorkloadItem, int]:
    """One workload (or other assessed object) and the id of its cluster."""
    workload = session.get(Asset, workload_id)
    if workload is None or workload.type not in ("workload", "k8s_resource"):
        raise NotFound(f"no workload {workload_id}")
    visible(session, scope, workload_id, workload.type)
    cluster = session.scalar(
        select(Asset).where(Asset.type == "cluster", Asset.key == workload.key.partition("/")[0])
    )
    names = {cluster.key: cluster.name} if cluster else {}
    return _workload_item(workload, names), cluster.id if cluster else 0
