"""Errors of the settings API in words a trader understands, never a 5xx for bad input.

The common error shape (`libs.common.api`); a layer that cannot be stored where it was sent
answers 422 with one problem per field, a stale ``If-Match`` 412 with the current version.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from libs.common import api
from libs.common.db import install_outage_answers
from libs.common.errors import TemporaryError
from services.router.errors import SettingsInvalidError, VersionConflictError

log = logging.getLogger(__name__)


class VersionConflictBody(api.ErrorBody):
    """412: the layer's version now."""

    version: int


async def _invalid_settings(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SettingsInvalidError)  # noqa: S101 - registered for this type
    problems = [
        api.FieldProblem(field=message.split(" ", 1)[0], message=message) for message in exc.errors
    ]
    return api.invalid_request(problems, prefix="Not saved, please correct")


async def _conflict(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VersionConflictError)  # noqa: S101 - registered for this type
    body = VersionConflictBody(error=exc.message, code=exc.code, version=exc.current)
    return JSONResponse(body.model_dump(), status_code=412)


async def _unavailable(request: Request, exc: Exception) -> Response:
    log.warning("settings API unavailable: %s", exc)
    return api.unavailable(
        "Trade settings are temporarily unavailable; try again in a moment.", retry_after_s=2
    )


def install_error_handlers(app: FastAPI) -> None:
    """Answer bad input with 422 and a sentence per field, a lost database with 503."""
    api.install_error_answers(app)
    install_outage_answers(app)
    app.add_exception_handler(SettingsInvalidError, _invalid_settings)
    app.add_exception_handler(VersionConflictError, _conflict)
    app.add_exception_handler(TemporaryError, _unavailable)
