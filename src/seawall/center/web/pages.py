"""The dashboard's pages (server-rendered; htmx for the interactive parts).

Every page reads through ``seawall.center.queries`` with the signed-in user's scope, exactly
as the API does, a page of each list at a time (the lists' cursors make the "next page"
links, which htmx turns into "show more" in place). Nothing here changes anything: the
forms post to :mod:`seawall.center.web.actions`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from seawall.center.api.deps import DB, center
from seawall.center.api.routers.admin import advisory_status
from seawall.center.api.routers.posture import current_score
from seawall.center.api.schemas import NodeItem
from seawall.center.exceptions import list_exceptions
from seawall.center.pages import Page
from seawall.center.queries import (
    alerts,
    clusters,
    findings,
    hosts,
    images,
    inventory,
    nodes,
    recommendations,
    registries,
)
from seawall.center.queries.common import NotFound, severity_levels, visible
from seawall.center.registries.connector import image_counts
from seawall.center.security.roles import Principal, Role
from seawall.center.settings import load as load_settings
from seawall.center.store.models import (
    Asset,
    AuditEntry,
    NotificationChannelRow,
    NotificationRuleRow,
    RegistryRow,
    Token,
    User,
)
from seawall.center.web import charts
from seawall.center.web.auth import Refused, Viewer, need
from seawall.center.web.render import render

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
Cursor = Annotated[str | None, Query(max_length=500)]
Text = Annotated[str, Query(max_length=200)]
Healthy = Literal["", "yes", "no"]
PAGE = 50


def page(
    request: Request,
    caller: Principal,
    template: str,
    nav: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    return render(
        request,
        template,
        {"caller": caller, "nav": nav, **context},
        status_code=status_code,
    )


def _healthy(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _levels(text: str) -> list[int]:
    try:
        return severity_levels(text)
    except ValueError:
        raise Refused(422, f"unknown severity in {text!r}") from None


@router.get("/")
def home() -> Response:
    return RedirectResponse("/overview", status_code=303)


@router.get("/overview", response_class=HTMLResponse)
def overview(request: Request, caller: Viewer, session: DB) -> Response:
    scope = caller.scope
    score = current_score(session, caller, 30)  # also records today's point of the trend
    health = inventory.health_by_type(session, scope)
    per_day = alerts.per_day(session, scope, 14)
    return page(
        request,
        caller,
        "overview.html",
        "overview",
        score=score,
        ring=charts.score_ring(score.percent),
        trend=charts.trend([(p.day, p.percent) for p in score.history]),
        meters={
            c.id: charts.meter(c.score, c.max_score, c.title) for c in score.controls if c.max_score
        },
        health=health,
        health_bars={
            t: charts.health_bar(v["healthy"], v["unhealthy"], v["none"], t)
            for t, v in health.items()
        },
        open_findings=inventory.open_by_severity(session, scope),
        recommendations=recommendations.list_recommendations(session, scope, state="unhealthy")[:5],
        alert_chart=charts.stacked_days(per_day),
        alert_total=sum(sum(v.values()) for v in per_day.values()),
        open_alerts=alerts.open_by_severity(session, scope),
        recent_alerts=alerts.list_alerts(session, scope, status="new", limit=5).items,
    )


INVENTORY_TABS = ("images", "hosts", "registries", "clusters", "nodes", "workloads")


@router.get("/inventory")
def inventory_home() -> Response:
    return RedirectResponse("/inventory/images", status_code=303)


@router.get("/inventory/{tab}", response_class=HTMLResponse)
def inventory_page(
    request: Request,
    caller: Viewer,
    session: DB,
    tab: Literal["images", "hosts", "registries", "clusters", "nodes", "workloads"],
    q: Text = "",
    healthy: Healthy = "",
    running: Literal["", "yes", "no"] = "",
    registry: Text = "",
    cluster: Annotated[int | None, Query(ge=1)] = None,
    cursor: Cursor = None,
) -> Response:
    scope = caller.scope
    state = _healthy(healthy)
    listed: Any
    if tab == "images":
        listed = images.list_images(
            session,
            scope,
            q=q,
            healthy=state,
            running=_healthy(running),
            registry=registry,
            cursor=cursor,
            limit=PAGE,
        )
    elif tab == "hosts":
        listed = hosts.list_hosts(session, scope, q=q, healthy=state, cursor=cursor, limit=PAGE)
    elif tab == "registries":
        listed = registries.list_registries(session, scope, q=q, cursor=cursor, limit=PAGE)
    elif tab == "clusters":
        listed = clusters.list_clusters(session, scope, cursor=cursor, limit=PAGE)
    elif tab == "nodes":
        listed = _nodes(session, caller, q=q, healthy=state, cluster=cluster, cursor=cursor)
    else:
        listed = clusters.list_workloads(
            session, scope, q=q, healthy=state, cursor=cursor, limit=PAGE
        )
    return page(
        request,
        caller,
        "inventory.html",
        "inventory",
        tab=tab,
        tabs=INVENTORY_TABS,
        listed=listed,
        q=q,
        healthy=healthy,
        running=running,
        registry=registry,
        cluster=cluster,
        bars={
            item.id: charts.severity_bar(item.counts.model_dump(), item.name)
            for item in listed.items
            if hasattr(item, "counts")
        },
    )


def _asset_url(asset: Asset) -> str:
    if asset.type == "image":
        return f"/images/{asset.key}"
    if asset.type in ("host", "cluster", "node"):
        return f"/{asset.type}s/{asset.id}"
    if asset.type in ("workload", "k8s_resource"):
        return f"/workloads/{asset.id}"
    if asset.type == "container" and asset.parent_id:
        return f"/hosts/{asset.parent_id}#container-{asset.id}"
    if asset.type == "namespace" and asset.parent_id:
        return f"/clusters/{asset.parent_id}"
    if asset.type == "registry":
        return f"/inventory/images?registry={asset.name}"
    if asset.type == "repository":
        return f"/inventory/images?q={asset.name}"
    return "/inventory"


@router.get("/assets/{asset_id}")
def asset_page(caller: Viewer, session: DB, asset_id: int) -> Response:
    """Any asset's page (recommendations and findings link resources through here)."""
    try:
        asset = visible(session, caller.scope, asset_id)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    return RedirectResponse(_asset_url(asset), status_code=303)


FINDING_STATES = ("open", "suppressed", "resolved", "passing", "failing", "all")


@router.get("/images/{digest}", response_class=HTMLResponse)
def image_page(
    request: Request,
    caller: Viewer,
    session: DB,
    digest: Annotated[str, Path(max_length=200)],
    state: Literal["open", "suppressed", "resolved", "passing", "failing", "all"] = "open",
    cursor: Cursor = None,
) -> Response:
    try:
        detail = images.image_detail(session, caller.scope, digest)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    listed = findings.list_findings(
        session,
        caller.scope,
        source=detail.id,
        state=state,
        cursor=cursor,
        limit=PAGE,
        count=False,
    )
    layers = {str(layer["digest"]): layer for layer in detail.layers}
    return page(
        request,
        caller,
        "image.html",
        "inventory",
        image=detail,
        listed=listed,
        state=state,
        states=FINDING_STATES,
        layers=layers,
        bar=charts.severity_bar(detail.counts.model_dump(), detail.name),
        running_on=detail.runs_on,
    )


def _by_rule(items: list[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        grouped[item.rule].append(item)
    return grouped


def _benchmark(session: Session, caller: Principal, source_id: int) -> dict[str, Any]:
    """A CIS audit as the host and node pages show it: every check's result by benchmark
    section, the failing ones' evidence (the first 500), how many failed and passed."""
    results = findings.rule_results(session, caller.scope, kind="configuration", source=source_id)
    sections: dict[str, list[findings.RuleResult]] = defaultdict(list)
    for result in results:
        sections[result.section or "Other checks"].append(result)
    failing = findings.list_findings(
        session,
        caller.scope,
        source=source_id,
        kinds=["configuration"],
        state="failing",
        sort="rule",
        limit=500,
    )
    return {
        "sections": sections,
        "failing": _by_rule(failing.items),
        "failing_more": failing.next is not None,
        "passed": sum(1 for r in results if r.status == "pass"),
        "failed": sum(1 for r in results if r.status == "fail"),
    }


def _found(lookup: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``lookup(*args, **kwargs)``, or the 404 page when it finds nothing in the scope."""
    try:
        return lookup(*args, **kwargs)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None


def _audited(
    request: Request, caller: Principal, session: Session, what: str, detail: Any
) -> Response:
    """The page of a host or node (``what``): its details and its CIS audit."""
    audit = _benchmark(session, caller, detail.id)
    return page(request, caller, f"{what}.html", "inventory", audit=audit, **{what: detail})


@router.get("/hosts/{host_id}", response_class=HTMLResponse)
def host_page(request: Request, caller: Viewer, session: DB, host_id: int) -> Response:
    """A Docker host: its details, its CIS Docker Benchmark checks and its containers."""
    return _audited(
        request, caller, session, "host", _found(hosts.host_detail, session, caller.scope, host_id)
    )


@router.get("/nodes/{node_id}", response_class=HTMLResponse)
def node_page(request: Request, caller: Viewer, session: DB, node_id: int) -> Response:
    """A Kubernetes node: its details and its CIS Kubernetes Benchmark checks by section."""
    return _audited(
        request, caller, session, "node", _found(nodes.node_detail, session, caller.scope, node_id)
    )


def _nodes(session: Session, caller: Principal, **filters: Any) -> Page[NodeItem]:
    """A page of nodes (the Nodes tab, a cluster's page); a cluster outside the scope is
    404."""
    return _found(nodes.list_nodes, session, caller.scope, limit=PAGE, **filters)


@router.get("/clusters/{cluster_id}", response_class=HTMLResponse)
def cluster_page(
    request: Request,
    caller: Viewer,
    session: DB,
    cluster_id: int,
    q: Text = "",
    healthy: Healthy = "",
    cursor: Cursor = None,
) -> Response:
    try:
        detail = clusters.cluster_detail(session, caller.scope, cluster_id)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    workloads = clusters.list_workloads(
        session,
        caller.scope,
        cluster=detail.id,
        q=q,
        healthy=_healthy(healthy),
        cursor=cursor,
        limit=PAGE,
    )
    results = findings.rule_results(session, caller.scope, kind="policy", source=detail.id)
    return page(
        request,
        caller,
        "cluster.html",
        "inventory",
        cluster=detail,
        workloads=workloads,
        nodes=_nodes(session, caller, cluster=detail.id),
        results=results,
        q=q,
        healthy=healthy,
        bars={w.id: charts.severity_bar(w.counts.model_dump(), w.name) for w in workloads.items},
    )


@router.get("/workloads/{workload_id}", response_class=HTMLResponse)
def workload_page(request: Request, caller: Viewer, session: DB, workload_id: int) -> Response:
    try:
        workload, cluster_id = clusters.workload_detail(session, caller.scope, workload_id)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    results = findings.rule_results(session, caller.scope, kind="policy", asset=workload.id)
    return page(
        request,
        caller,
        "workload.html",
        "inventory",
        workload=workload,
        cluster_id=cluster_id,
        results=results,
        runs=images.images_of(session, [workload.id]).get(workload.id, []),
    )


@router.get("/recommendations", response_class=HTMLResponse)
def recommendations_page(
    request: Request,
    caller: Viewer,
    session: DB,
    state: Literal["", "unhealthy", "healthy"] = "",
    severity: Annotated[str, Query(max_length=60, pattern=r"^[a-z,]*$")] = "",
    control: Text = "",
    q: Text = "",
) -> Response:
    every = recommendations.list_recommendations(session, caller.scope, state=state)
    wanted = set(filter(None, severity.split(",")))
    shown = [
        r
        for r in every
        if (not wanted or r.severity in wanted)
        and (not control or r.control == control)
        and (not q or q.lower() in r.title.lower())
    ]
    from seawall.center.posture.catalog import CONTROLS

    return page(
        request,
        caller,
        "recommendations.html",
        "recommendations",
        items=shown,
        state=state,
        severity=severity,
        control=control,
        controls=CONTROLS,
        q=q,
        bars={
            r.id: charts.health_bar(r.healthy, r.unhealthy, r.not_applicable, r.title)
            for r in shown
        },
    )


@router.get("/recommendations/{rec_id}", response_class=HTMLResponse)
def recommendation_page(
    request: Request,
    caller: Viewer,
    session: DB,
    rec_id: str,
    state: Literal["unhealthy", "healthy", "not_applicable"] = "unhealthy",
    cursor: Cursor = None,
) -> Response:
    try:
        item = recommendations.recommendation(session, caller.scope, rec_id)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    listed = recommendations.resources(
        session, caller.scope, rec_id, state=state, cursor=cursor, limit=PAGE
    )
    steps = [line.split(". ", 1)[-1] for line in item.remediation.splitlines() if line.strip()]
    return page(
        request,
        caller,
        "recommendation.html",
        "recommendations",
        rec=item,
        listed=listed,
        state=state,
        steps=steps,
        numbered=item.remediation.lstrip().startswith("1."),
        bar=charts.health_bar(item.healthy, item.unhealthy, item.not_applicable, item.title),
    )


@router.get("/findings", response_class=HTMLResponse)
def findings_page(
    request: Request,
    caller: Viewer,
    session: DB,
    state: Literal["open", "suppressed", "resolved", "passing", "failing", "all"] = "open",
    kind: Literal["", "vulnerability", "configuration", "policy"] = "",
    severity: Annotated[str, Query(max_length=60, pattern=r"^[a-zA-Z,]*$")] = "",
    q: Text = "",
    rule: Text = "",
    source: int | None = None,
    sort: Literal["severity", "first_seen", "last_seen", "rule", "package"] = "severity",
    cursor: Cursor = None,
) -> Response:
    listed = findings.list_findings(
        session,
        caller.scope,
        state=state,
        kinds=[kind] if kind else [],
        severities=_levels(severity),
        q=q,
        rule=rule,
        source=source,
        sort=sort,
        cursor=cursor,
        limit=PAGE,
        count=False,  # counting a million findings would cost more than the page
    )
    return page(
        request,
        caller,
        "findings.html",
        "findings",
        listed=listed,
        state=state,
        states=FINDING_STATES,
        kind=kind,
        severity=severity,
        q=q,
        rule=rule,
        source=source,
        sort=sort,
    )


@router.get("/findings/{finding_id}", response_class=HTMLResponse)
def finding_page(request: Request, caller: Viewer, session: DB, finding_id: int) -> Response:
    found = findings.get_finding(session, caller.scope, finding_id)
    if found is None:
        raise Refused(404, f"no finding {finding_id}")
    exception = None
    if found.exception_id is not None:
        exception = next(
            (e for e in list_exceptions(session, caller) if e.id == found.exception_id), None
        )
    image_digest = ""
    if found.asset.get("source_type") == "image":
        source = session.get(Asset, found.asset["id"])
        image_digest = source.key if source and source.type == "image" else ""
    return page(
        request,
        caller,
        "finding.html",
        "findings",
        finding=found,
        exception=exception,
        image_digest=image_digest,
    )


@router.get("/exceptions", response_class=HTMLResponse)
def exceptions_page(request: Request, caller: Viewer, session: DB) -> Response:
    return page(
        request, caller, "exceptions.html", "findings", exceptions=list_exceptions(session, caller)
    )


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    caller: Viewer,
    session: DB,
    status: Literal["", "new", "acknowledged", "dismissed"] = "",
    severity: Annotated[str, Query(max_length=60, pattern=r"^[a-zA-Z,]*$")] = "",
    tactic: Text = "",
    cursor: Cursor = None,
) -> Response:
    scope = caller.scope
    listed = alerts.list_alerts(
        session,
        scope,
        status=status,
        severities=_levels(severity),
        tactic=tactic,
        cursor=cursor,
        limit=PAGE,
        count=False,  # the tabs carry the counts (one grouped query)
    )
    per_day = alerts.per_day(session, scope, 30)
    return page(
        request,
        caller,
        "alerts.html",
        "alerts",
        listed=listed,
        status=status,
        severity=severity,
        tactic=tactic,
        counts=alerts.by_status(session, scope),
        chart=charts.stacked_days(per_day, "Alerts by severity per day, last 30 days"),
    )


def alert_context(session: Session, caller: Principal, alert_id: int) -> dict[str, Any]:
    row = alerts.get_alert(session, caller.scope, alert_id)
    if row is None:
        raise Refused(404, f"no alert {alert_id}")
    return {"alert": alerts.item(session, row), "status_at": row.status_at}


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, caller: Viewer, session: DB, alert_id: int) -> Response:
    return page(request, caller, "alert.html", "alerts", **alert_context(session, caller, alert_id))


def settings_context(session: Session, caller: Principal, request: Request) -> dict[str, Any]:
    """What the Settings page shows (also rendered by its forms with an error or a new
    token's value)."""
    need(caller, Role.OWNER)
    return {
        "users": list(session.scalars(select(User).order_by(User.name))),
        "tokens": list(session.scalars(select(Token).order_by(Token.id.desc()).limit(200))),
        "threshold": load_settings(session).health_threshold,
        "selectors": inventory.scope_selectors(session),
        "audit": list(session.scalars(select(AuditEntry).order_by(AuditEntry.at.desc()).limit(15))),
        "advisories": advisory_status(str(center(request).config.advisory_db)),
        "registries": list(session.scalars(select(RegistryRow).order_by(RegistryRow.name))),
        "registry_images": image_counts(session),
        "channels": list(
            session.scalars(select(NotificationChannelRow).order_by(NotificationChannelRow.name))
        ),
        "rules": list(
            session.scalars(select(NotificationRuleRow).order_by(NotificationRuleRow.id))
        ),
        "new_registry": None,
    }


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request,
    caller: Viewer,
    session: DB,
    state: Literal["", "queued", "running", "done", "failed", "cancelled"] = "",
) -> Response:
    """Background jobs (image scans of watched registries): their state and, when they
    failed, why."""
    from seawall.center.api.routers.jobs import list_jobs

    listed = list_jobs(session, caller, state=state or None, kind=None, limit=PAGE)
    return page(request, caller, "jobs.html", "jobs", jobs=listed.items, state=state)


@router.get("/settings", response_class=HTMLResponse)
def settings_page(
    request: Request,
    caller: Viewer,
    session: DB,
    done: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    return page(
        request,
        caller,
        "settings.html",
        "settings",
        done=DONE.get(done, ""),
        error="",
        new_token=None,
        **settings_context(session, caller, request),
    )


DONE = {
    "user-created": "User created.",
    "user-changed": "User changed.",
    "token-revoked": "Token revoked.",
    "threshold": "Health threshold saved: health and the score were recomputed.",
}
