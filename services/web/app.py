"""The web app's wiring: Postgres (migrated at start in development), the HTTP client it calls
the other services with, mail, templates, static files, the routers, the security headers.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from opentelemetry.sdk.trace import TracerProvider
from starlette.exceptions import HTTPException as StarletteHTTPException

from libs.common.db import connect_as, install_outage_answers, make_engine, migrate_at_start
from libs.common.messages.types import utcnow
from libs.common.service import mount_ops, postgres_check
from libs.common.telemetry import build_tracer_provider
from services.web.api import ROUTERS
from services.web.api.common import install as install_pages
from services.web.auth.provisioning import Provisioner
from services.web.auth.sessions import Sessions
from services.web.auth.throttle import RESEND_KINDS, SIGNUP_KINDS, Throttle
from services.web.auth.users import Users
from services.web.config import SERVICE, WebSettings
from services.web.crypto import Signer, data_box
from services.web.errors import CsrfRefusedError, EmailNotVerifiedError, NotSignedInError
from services.web.headers import SecurityHeaders
from services.web.mail import Mailer
from services.web.metrics import RequestMetrics
from services.web.rendering import make_templates, render
from services.web.runtime import Runtime, runtime_of
from services.web.store import Database

MIGRATIONS = Path(__file__).parent / "migrations"
STATIC = Path(__file__).parent / "static"


def create_app(
    settings: WebSettings,
    *,
    clock: Callable[[], datetime] = utcnow,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """Build the web app; nothing connects until its lifespan starts."""
    provider = tracer_provider or build_tracer_provider(SERVICE)
    runtime = build_runtime(settings, clock)
    app = FastAPI(
        title="Sparky",
        lifespan=_lifespan(settings),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.runtime = runtime
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router)
    _install_answers(app)
    install_pages(app)
    install_outage_answers(app)
    mount_ops(app, {"postgres": postgres_check(runtime.db.engine)}, provider)
    app.add_middleware(SecurityHeaders, hsts=settings.cookie_secure)
    app.add_middleware(RequestMetrics)  # outermost: counts every answer, refusals included
    return app


def build_runtime(settings: WebSettings, clock: Callable[[], datetime] = utcnow) -> Runtime:
    """Build what the routes share; nothing connects until it is first used."""
    engine = make_engine(
        settings.database_url, settings.database_schema, pool_size=settings.database_pool_size
    )
    connect_as(engine, settings.writer_role)
    db = Database(engine)
    secret = settings.data_key.get_secret_value()
    box = data_box(secret)
    users = Users(db, clock)
    return Runtime(
        settings=settings,
        clock=clock,
        db=db,
        http=httpx.AsyncClient(timeout=settings.api_timeout_s, follow_redirects=False),
        templates=make_templates(),
        data_box=box,
        csrf_signer=Signer(secret, "sparky-web/csrf/v1"),
        sessions=Sessions(
            db,
            clock,
            lifetime=timedelta(days=settings.session_days),
            idle=timedelta(hours=settings.session_idle_hours),
        ),
        users=users,
        throttle=Throttle(
            db,
            clock,
            window=timedelta(minutes=settings.throttle_window_minutes),
            per_account=settings.throttle_per_account,
            per_address=settings.throttle_per_address,
        ),
        resend_throttle=Throttle(
            db,
            clock,
            window=timedelta(minutes=settings.resend_window_minutes),
            per_account=settings.resend_per_user,
            per_address=settings.resend_per_address,
            kinds=RESEND_KINDS,
        ),
        signup_throttle=Throttle(
            db,
            clock,
            window=timedelta(minutes=settings.resend_window_minutes),
            per_account=settings.signup_per_email,
            per_address=settings.signup_per_address,
            kinds=SIGNUP_KINDS,
        ),
        provisioner=Provisioner(settings, db, users, box, clock),
        mailer=Mailer(settings),
    )


def _lifespan(
    settings: WebSettings,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            stack.push_async_callback(runtime_of(app).close)
            roles = {"writer_role": settings.writer_role}
            await migrate_at_start(settings, MIGRATIONS, settings.database_schema, roles)
            yield

    return lifespan


def _install_answers(app: FastAPI) -> None:
    """Answer refusals with pages in words, never a stack trace or a JSON body."""

    async def not_signed_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NotSignedInError)  # noqa: S101 - registered for this type
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={exc.next_path}", status_code=303)

    async def not_verified(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, EmailNotVerifiedError)  # noqa: S101 - registered for this type
        return await render(request, "auth/verify_pending.html", {"email": exc.session.email})

    async def csrf_refused(request: Request, _exc: Exception) -> Response:
        return await _error_page(
            request,
            403,
            "This form has expired or did not come from this site. Go back, reload the page "
            "and send it again.",
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this type
        message = exc.detail if isinstance(exc.detail, str) else "That did not work."
        if exc.status_code == 404:
            message = "There is no page here."
        elif exc.status_code == 405:
            message = "This page does not take that kind of request."
        return await _error_page(request, exc.status_code, message, exc.headers)

    async def invalid(request: Request, _exc: Exception) -> Response:
        return await _error_page(
            request, 400, "A field of this form is missing or not valid; go back and check it."
        )

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(NotSignedInError, not_signed_in)
    app.add_exception_handler(EmailNotVerifiedError, not_verified)
    app.add_exception_handler(CsrfRefusedError, csrf_refused)
    app.add_exception_handler(StarletteHTTPException, http_error)


async def _error_page(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    response = await render(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )
    response.headers.update(headers or {})
    return response
