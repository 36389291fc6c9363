"""Exports: any list as CSV or JSON, with the time, the advisory database version and the
scope it was taken in, so an auditor can tell exactly what it says."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from seawall.center.api.deps import AssetId, Reader, center
from seawall.center.api.routers.admin import advisory_status
from seawall.center.queries import alerts, clusters, findings, hosts, images, nodes, registries
from seawall.center.queries.common import severity_levels
from seawall.center.security.roles import Principal

router = APIRouter(tags=["export"])
Lister = Callable[..., Any]
MAX_ROWS = 1_000_000


def _rows(
    factory: sessionmaker[Session], lister: Lister, caller: Principal, **filters: Any
) -> Iterator[BaseModel]:
    """Every row, a page at a time, in a session of its own: the response streams after
    the request's session has closed."""
    cursor = None
    sent = 0
    with factory() as session:
        while sent < MAX_ROWS:
            page = lister(session, caller.scope, cursor=cursor, limit=500, **filters)
            yield from page.items
            sent += len(page.items)
            if not page.next:
                return
            cursor = page.next


def _flat(item: BaseModel) -> dict[str, str]:
    """One CSV row: nested values (counts, asset, lists) as JSON text."""
    out = {}
    for key, value in item.model_dump(mode="json").items():
        out[key] = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return out


@router.get(
    "/export/{what}",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The rows, with when, by whom, in which scope and with which "
            "advisory database the export was taken",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
def export(
    request: Request,
    caller: Reader,
    what: Literal[
        "images", "hosts", "registries", "clusters", "nodes", "workloads", "findings", "alerts"
    ],
    format: Literal["csv", "json"] = "csv",
    state: Annotated[
        str, Query(pattern=r"^(open|suppressed|resolved|passing|failing|all)$")
    ] = "open",
    severity: Annotated[str, Query(max_length=60, pattern=r"^[a-zA-Z,]*$")] = "",
    kind: Literal["", "vulnerability", "configuration", "policy"] = "",
    rule: Annotated[str, Query(max_length=300)] = "",
    source: AssetId = None,
    q: Annotated[str, Query(max_length=200)] = "",
    status_: Annotated[
        str,
        Query(alias="status", max_length=40, pattern=r"^((new|acknowledged|dismissed),?)*$"),
    ] = "",
) -> StreamingResponse:
    """Every row of a list the caller may see (findings: ``state``, ``severity``, ``kind``,
    ``rule``, ``source`` and ``q`` filter; alerts: ``severity`` and ``status``)."""
    try:
        levels = severity_levels(severity)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    finding_filters = {
        "state": state,
        "severities": levels,
        "kinds": [kind] if kind else [],
        "rule": rule,
        "source": source,
        "q": q,
    }
    listers: dict[str, tuple[Lister, dict[str, Any]]] = {
        "images": (images.list_images, {}),
        "hosts": (hosts.list_hosts, {}),
        "registries": (registries.list_registries, {}),
        "clusters": (clusters.list_clusters, {}),
        "nodes": (nodes.list_nodes, {}),
        "workloads": (clusters.list_workloads, {}),
        "findings": (findings.list_findings, finding_filters),
        "alerts": (alerts.list_alerts, {"severities": levels, "status": status_}),
    }
    lister, filters = listers[what]
    rows = _rows(center(request).sessions, lister, caller, **filters)
    database = advisory_status(str(center(request).config.advisory_db))
    generated_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    meta = {
        "generated_at": generated_at,
        "generated_by": caller.name,
        "scope": caller.scope.as_list() or ["everything"],
        "advisory_database": {"path": database.path, "built_at": database.built_at},
        "list": what,
        "filters": {
            k: v
            for k, v in (
                ("state", state if what == "findings" else ""),
                ("severity", severity),
                ("kind", kind),
                ("rule", rule),
                ("source", source),
                ("q", q),
                ("status", status_),
            )
            if v
        },
    }
    stamp = generated_at.replace(":", "").replace("-", "")[:15]
    headers = {
        "Content-Disposition": f'attachment; filename="seawall-{what}-{stamp}.{format}"',
        "X-Seawall-Advisory-Database": database.built_at or "none",
    }
    if format == "json":

        def json_stream() -> Iterator[bytes]:
            yield (json.dumps(meta)[:-1] + ', "items": [').encode()
            for index, row in enumerate(rows):
                yield ((", " if index else "") + row.model_dump_json()).encode()
            yield b"]}\n"

        return StreamingResponse(json_stream(), media_type="application/json", headers=headers)

    def csv_stream() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer: csv.DictWriter[str] | None = None
        for row in rows:
            flat = _flat(row)
            flat["advisory_database"] = database.built_at
            if writer is None:
                writer = csv.DictWriter(buffer, fieldnames=list(flat), extrasaction="ignore")
                writer.writeheader()
            writer.writerow(flat)
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()

    return StreamingResponse(csv_stream(), media_type="text/csv", headers=headers)
