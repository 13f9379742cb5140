"""What every signed-in page shares: rendering with the signed-in user, form values, the
answers to a service's refusal (its sentence, next to the form) or outage (a 503 page).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment

from services.web import rendering
from services.web.errors import ApiError, MissingApiKeyError, ServiceUnavailableError
from services.web.runtime import runtime_of
from services.web.session import SignedIn

UNAVAILABLE = 503
CONFLICT = 409
DASH = "\u2013"  # what a table shows for a value not known


def templates_of(request: Request) -> Jinja2Templates:
    """The app's templates."""
    templates: Jinja2Templates = runtime_of(request).templates
    return templates


async def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    me: SignedIn | None = None,
    status_code: int = 200,
) -> Response:
    """Render the template ``name`` with ``context``, the signed-in user and a notice."""
    values: dict[str, Any] = {"me": me, "notice": request.query_params.get("done"), **context}
    return await rendering.render(request, name, values, status_code=status_code)


def back(path: str, notice: str | None = None, **params: str) -> RedirectResponse:
    """Redirect after a successful POST (303: the browser GETs ``path``), with a notice."""
    query = {k: v for k, v in ({"done": notice} | params).items() if v}
    return RedirectResponse(path + (f"?{urlencode(query)}" if query else ""), status_code=303)


def refused_status(error: ApiError) -> int:
    """The status a page answers with when a service refused its form: the service's 4xx."""
    return error.status if 400 <= error.status < 500 else 400


async def form_of(request: Request) -> dict[str, str]:
    """The posted form as text values (files are not accepted anywhere)."""
    form = await request.form()
    return {k: v.strip() for k, v in form.items() if isinstance(v, str)}


async def service_down(request: Request, exc: Exception) -> Response:
    """The page shown when a service is down: what happened in words, never a traceback."""
    assert isinstance(exc, ServiceUnavailableError)  # noqa: S101 - registered for this class only
    context = {"message": str(exc), "status": UNAVAILABLE}
    if request.headers.get("HX-Request"):
        return Response(str(exc), status_code=UNAVAILABLE, media_type="text/plain")
    response = await render(request, "error.html", context, status_code=UNAVAILABLE)
    response.headers["Retry-After"] = "10"
    return response


async def api_refused(request: Request, exc: Exception) -> Response:
    """A GET a service refused (an unknown alert id, a page of another tenant): its sentence."""
    assert isinstance(exc, ApiError)  # noqa: S101 - registered for this class only
    status = refused_status(exc)
    context = {"message": exc.message, "status": status}
    return await render(request, "error.html", context, status_code=status)


async def no_api_key(request: Request, exc: Exception) -> Response:
    """A user whose sign-up left no tenant API key: nothing can be called for them yet."""
    assert isinstance(exc, MissingApiKeyError)  # noqa: S101 - registered for this class only
    message = "Your sign-up is not finished: sign out and sign in again to finish it."
    return await render(
        request, "error.html", {"message": message, "status": CONFLICT}, status_code=CONFLICT
    )


def install(app: FastAPI) -> None:
    """Answer a service's outage or refusal on any page in words; add the pages' filters."""
    app.add_exception_handler(ServiceUnavailableError, service_down)
    app.add_exception_handler(ApiError, api_refused)
    app.add_exception_handler(MissingApiKeyError, no_api_key)
    install_filters(runtime_of(app).templates.env)


# Filters for the templates.


def money(value: object, places: int = 8) -> str:
    """A decimal (sent as text) without exponent or trailing zeros; a dash when absent."""
    if value is None or value == "":
        return DASH
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{number:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def when(value: object) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM:SS UTC'; a dash when absent."""
    if not value:
        return DASH
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def signed(value: object) -> str:
    """'gain', 'loss' or '' for a decimal: the class that colours a PnL figure."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return ""
    return "gain" if number > 0 else "loss" if number < 0 else ""


def install_filters(env: Environment) -> None:
    """Add the pages' filters to the templates' environment."""
    env.filters["money"] = money
    env.filters["when"] = when
    env.filters["signed"] = signed
