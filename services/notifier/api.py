"""The tenant API: ``/api/v1/notifications/…`` (channels). Tenant API-key auth."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request

from libs.common import api
from libs.common.db import install_outage_answers
from services.notifier.runtime import Runtime

router = APIRouter(
    prefix="/api/v1/notifications", tags=["notifier"], responses=api.answers(401, 403, 503)
)


def get_runtime(request: Request) -> Runtime:
    """Return the app's `Runtime` (set in the lifespan, or by a test)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def install(app: FastAPI) -> None:
    """Add the routes; answer in the common error shape."""
    app.include_router(router)
    api.install_error_answers(app)
    install_outage_answers(app)
