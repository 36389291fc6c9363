"""How values are written on the pages: times, digests, counts, links with query strings.
Registered as Jinja filters and globals by :func:`install`; each returns plain text (the
templates escape it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from jinja2 import Environment

SEVERITIES = ("critical", "high", "medium", "low", "unknown")
TYPE_LABELS = {
    "image": "Images",
    "host": "Hosts",
    "container": "Containers",
    "cluster": "Clusters",
    "node": "Nodes",
    "workload": "Workloads",
    "registry": "Registries",
}


def ago(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """``3 min ago``, ``5 h ago``, ``2 d ago``, then the date."""
    if value is None:
        return "never"
    now = now or dt.datetime.now(dt.UTC)
    seconds = (now - value).total_seconds()
    if seconds < 0:
        return stamp(value)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 30 * 86400:
        return f"{int(seconds // 86400)} d ago"
    return value.strftime("%Y-%m-%d")


def stamp(value: dt.datetime | None) -> str:
    """``2026-03-01 14:05 UTC``."""
    if value is None:
        return ""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds") if value else ""


def short_digest(value: str) -> str:
    """``sha256:6a7975bd9c80`` (the algorithm and 12 hex digits)."""
    algorithm, _, hexdigits = value.partition(":")
    return f"{algorithm}:{hexdigits[:12]}" if hexdigits else value[:19]


def number(value: float | int | None) -> str:
    """Thousands separated by commas: ``12,345``."""
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def path_part(value: str) -> str:
    """A value for a URL path segment (a digest's ``:`` stays)."""
    return quote(value, safe=":@")


def query(params: Mapping[str, Any]) -> str:
    """``?a=1&b=2`` of the non-empty values (lists repeat their key), or ``""``."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None or value == "" or value is False:
            continue
        if isinstance(value, list | tuple):
            pairs.extend((key, str(v)) for v in value if v not in (None, ""))
        else:
            pairs.append((key, str(value)))
    return "?" + urlencode(pairs) if pairs else ""


def with_query(request: Request, **changes: Any) -> str:
    """This page's path with its query changed (``None`` removes a parameter); the cursor
    is dropped unless given, so a new filter starts at the first page."""
    params: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        params[key] = values if len(values) > 1 else values[0]
    params.pop("cursor", None)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return request.url.path + query(params)


def plural(count: int, singular: str, many: str | None = None) -> str:
    return f"{number(count)} {singular if count == 1 else many or singular + 's'}"


def install(env: Environment) -> None:
    env.filters.update(
        ago=ago,
        stamp=stamp,
        iso=iso,
        short_digest=short_digest,
        number=number,
        path_part=path_part,
    )
    env.globals.update(
        SEVERITIES=SEVERITIES,
        TYPE_LABELS=TYPE_LABELS,
        query=query,
        with_query=with_query,
        plural=plural,
    )
