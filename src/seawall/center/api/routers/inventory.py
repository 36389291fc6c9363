"""Images, hosts, clusters, their nodes and workloads: what runs, and how exposed it is."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from seawall.center.api.deps import DB, AssetId, Id, Reader
from seawall.center.api.schemas import (
    ClusterItem,
    FindingItem,
    HostDetail,
    HostItem,
    ImageDetail,
    ImageItem,
    ListOf,
    NodeDetail,
    NodeItem,
    WorkloadItem,
)
from seawall.center.queries import clusters, findings, hosts, images, nodes
from seawall.center.queries.common import NotFound
from seawall.contract import encode_pretty

router = APIRouter(tags=["inventory"])
Cursor = Annotated[str | None, Query(max_length=500, description="From the previous page")]
Limit = Annotated[int, Query(ge=1, le=500)]
Text = Annotated[str, Query(max_length=200)]
DIGEST = r"^[a-z0-9]+:[a-f0-9]{32,128}$"
Digest = Annotated[str, Path(pattern=DIGEST, description="Config or manifest digest")]


@router.get("/images", response_model=ListOf[ImageItem])
def list_images(
    session: DB,
    caller: Reader,
    q: Text = "",
    healthy: bool | None = None,
    running: bool | None = None,
    registry: Text = "",
    sort: Literal["running", "critical", "high", "name", "last_scanned", "first_seen"] = "running",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ListOf[ImageItem]:
    """Images, running ones first; ``healthy`` means nothing open at or above the health
    threshold."""
    page = images.list_images(
        session,
        caller.scope,
        q=q,
        healthy=healthy,
        running=running,
        registry=registry,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return ListOf[ImageItem].of(page)


@router.get("/images/{digest}", response_model=ImageDetail)
def get_image(session: DB, caller: Reader, digest: Digest) -> ImageDetail:
    """One image by its config digest or any of its manifest digests (the lookup CI
    pipelines use)."""
    return images.image_detail(session, caller.scope, digest)


@router.get("/images/{digest}/findings", response_model=ListOf[FindingItem])
def image_findings(
    session: DB,
    caller: Reader,
    digest: Digest,
    state: Literal["open", "suppressed", "resolved", "passing", "failing", "all"] = "open",
    sort: Literal["severity", "first_seen", "last_seen", "rule", "package"] = "severity",
    cursor: Cursor = None,
    limit: Limit = 100,
) -> ListOf[FindingItem]:
    image = images.find_image(session, caller.scope, digest)
    page = findings.list_findings(
        session,
        caller.scope,
        source=image.id,
        state=state,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return ListOf[FindingItem].of(page)


@router.get(
    "/images/{digest}/sbom",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "inventory envelope"}},
)
def image_sbom(session: DB, caller: Reader, digest: Digest) -> Response:
    """The stored inventory, as the ``inventory`` result envelope ``seawall sbom -f json``
    writes."""
    from seawall.center.ingest import load_inventory
    from seawall.report.envelope.image import inventory_envelope

    image = images.find_image(session, caller.scope, digest)
    inventory = load_inventory(session, image.id)
    if inventory is None:
        raise NotFound(f"no inventory stored for {digest}")
    return Response(encode_pretty(inventory_envelope(inventory)), media_type="application/json")


@router.get("/hosts", response_model=ListOf[HostItem])
def list_hosts(
    session: DB,
    caller: Reader,
    q: Text = "",
    healthy: bool | None = None,
    sort: Literal["name", "critical", "high", "last_scanned"] = "name",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ListOf[HostItem]:
    page = hosts.list_hosts(
        session, caller.scope, q=q, healthy=healthy, sort=sort, cursor=cursor, limit=limit
    )
    return ListOf[HostItem].of(page)


@router.get("/hosts/{host_id}", response_model=HostDetail)
def get_host(session: DB, caller: Reader, host_id: Id) -> HostDetail:
    return hosts.host_detail(session, caller.scope, host_id)


@router.get("/clusters", response_model=ListOf[ClusterItem])
def list_clusters(
    session: DB,
    caller: Reader,
    sort: Literal["name", "critical", "last_scanned"] = "name",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ListOf[ClusterItem]:
    page = clusters.list_clusters(session, caller.scope, sort=sort, cursor=cursor, limit=limit)
    return ListOf[ClusterItem].of(page)


@router.get("/clusters/{cluster_id}", response_model=ClusterItem)
def get_cluster(session: DB, caller: Reader, cluster_id: Id) -> ClusterItem:
    return clusters.cluster_detail(session, caller.scope, cluster_id)


@router.get("/nodes", response_model=ListOf[NodeItem])
def list_nodes(
    session: DB,
    caller: Reader,
    q: Text = "",
    healthy: bool | None = None,
    cluster: AssetId = None,
    sort: Literal["name", "critical", "high", "last_scanned"] = "name",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ListOf[NodeItem]:
    """Kubernetes nodes and their latest CIS audit (``seawall k8s node-audit --upload``);
    ``cluster``: the nodes of that cluster; ``healthy`` means no failed check at or above
    the health threshold."""
    page = nodes.list_nodes(
        session,
        caller.scope,
        q=q,
        healthy=healthy,
        cluster=cluster,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return ListOf[NodeItem].of(page)


@router.get("/nodes/{node_id}", response_model=NodeDetail)
def get_node(session: DB, caller: Reader, node_id: Id) -> NodeDetail:
    """One node: its cluster, role, layout, API server, where each component's settings
    were read and its CIS score (its checks: ``/findings?source=ID&state=all``)."""
    return nodes.node_detail(session, caller.scope, node_id)


@router.get("/workloads", response_model=ListOf[WorkloadItem])
def list_workloads(
    session: DB,
    caller: Reader,
    cluster: AssetId = None,
    namespace: Text = "",
    kind: Text = "",
    healthy: bool | None = None,
    q: Text = "",
    all_objects: bool = Query(False, description="Also roles, bindings, services, ..."),
    sort: Literal["name", "critical", "high"] = "critical",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ListOf[WorkloadItem]:
    page = clusters.list_workloads(
        session,
        caller.scope,
        cluster=cluster,
        namespace=namespace,
        kind=kind,
        healthy=healthy,
        q=q,
        include_other=all_objects,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return ListOf[WorkloadItem].of(page)
