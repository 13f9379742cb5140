"""Rendering a page: the template, the navigation, and this browser's CSRF token."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.web.dead_channels import dead_channels
from services.web.runtime import runtime_of
from services.web.session import csrf_token_for, current_session, remember_pre_login_nonce

TEMPLATES_DIR = Path(__file__).parent / "templates"

# (path, label) of the main navigation of a signed-in user.
NAV: tuple[tuple[str, str], ...] = (
    ("/alerts", "Alerts"),
    ("/positions", "Positions"),
    ("/strategies", "Strategies"),
    ("/settings/trade", "Trade settings"),
    ("/account", "Account"),
    ("/security", "Security"),
)


def make_templates() -> Jinja2Templates:
    """Return the app's templates (autoescaped HTML)."""
    return Jinja2Templates(directory=str(TEMPLATES_DIR))


async def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``name`` with ``context`` plus ``user`` (the live session or None), ``nav``,
    ``csrf_token`` (for every form's hidden field), ``current_path`` and ``dead_channels``
    (the banner of notification channels the notifier gave up on; not for htmx fragments).
    """
    templates: Jinja2Templates = runtime_of(request).templates
    session = await current_session(request)
    values = {
        "user": session,
        "nav": NAV,
        "csrf_token": await csrf_token_for(request),
        "current_path": request.url.path,
        "dead_channels": [] if request.headers.get("HX-Request") else await dead_channels(request),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    if session is None:
        remember_pre_login_nonce(request, response)
    return response
