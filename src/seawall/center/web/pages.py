"""The dashboard's pages (server-rendered; htmx for the interactive parts)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from seawall.center.web.auth import Viewer
from seawall.center.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/overview", status_code=303)


@router.get("/overview", response_class=HTMLResponse)
def overview(request: Request, caller: Viewer) -> Response:
    return render(request, "overview.html", {"caller": caller})
