"""Rendering a template of the dashboard (autoescaped: every value is HTML-escaped)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, template, context, status_code=status_code
    )
    return response
