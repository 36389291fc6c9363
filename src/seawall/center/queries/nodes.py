"""Kubernetes nodes, each under its cluster, with the details of its latest CIS Kubernetes
Benchmark audit (kept on the asset by ingest)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.center.api.schemas import NodeDetail, NodeItem
from seawall.center.pages import Page
from seawall.center.queries.common import ASSESSED_SORTS, assessed, assets_page, visible
from seawall.center.security.scope import Scope
from seawall.center.store.models import Asset

SORTS = ASSESSED_SORTS


def _item(node: Asset, clusters: dict[int, str]) -> NodeItem:
    a = node.attributes
    score = a.get("score_percent")
    return NodeItem(
        **assessed(node),
        cluster=clusters.get(node.parent_id or 0, ""),
        cluster_id=node.parent_id if node.parent_id in clusters else None,
        role=str(a.get("role", "")),
        layout=str(a.get("layout", "")),
        benchmark=str(a.get("benchmark", "")),
        score_percent=float(score) if isinstance(score, int | float) else None,
    )


def _clusters(session: Session, nodes: list[Asset]) -> dict[int, str]:
    """The names of the clusters of ``nodes``, by id (one query)."""
    ids = {node.parent_id for node in nodes if node.parent_id}
    if not ids:
        return {}
    rows = session.execute(
        select(Asset.id, Asset.name).where(Asset.id.in_(ids), Asset.type == "cluster")
    )
    return {cluster_id: name for cluster_id, name in rows}


def list_nodes(
    session: Session,
    scope: Scope,
    *,
    q: str = "",
    healthy: bool | None = None,
    cluster: int | None = None,
    sort: str = "name",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[NodeItem]:
    """Nodes by name, health or open failed checks; ``cluster``: the nodes of that cluster
    (which must be in the scope)."""
    if cluster is not None:
        visible(session, scope, cluster, "cluster")
    page = assets_page(
        session, scope, "node", SORTS[sort], cursor, limit, q=q, healthy=healthy, parent=cluster
    )
    clusters = _clusters(session, page.items)
    return Page([_item(node, clusters) for node in page.items], page.total, page.next)


def node_detail(session: Session, scope: Scope, node_id: int) -> NodeDetail:
    node = visible(session, scope, node_id, "node")
    a = node.attributes
    components = a.get("components")
    return NodeDetail(
        **_item(node, _clusters(session, [node])).model_dump(),
        api_server=str(a.get("api_server", "")),
        components=dict(components) if isinstance(components, dict) else {},
        error=str(a.get("error", "")),
    )
