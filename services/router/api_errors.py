"""Errors of the settings API in words a trader understands, never a 5xx for bad input."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from libs.common.errors import TemporaryError
from services.router.errors import SettingsInvalidError, VersionConflictError

log = logging.getLogger(__name__)


def _field(location: Sequence[Any]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


def _sentence(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "is not valid"))
    return message.removeprefix("Value error, ")


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type
    errors = [{"field": _field(e["loc"]), "message": _sentence(e)} for e in exc.errors()]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return JSONResponse(
        {"detail": f"Not saved, please correct: {summary}", "errors": errors}, status_code=422
    )


async def _invalid_settings(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SettingsInvalidError)  # noqa: S101 - registered for this type
    errors = [{"field": message.split(" ", 1)[0], "message": message} for message in exc.errors]
    return JSONResponse(
        {"detail": f"Not saved, please correct: {exc.message}", "errors": errors}, status_code=422
    )


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VersionConflictError)  # noqa: S101 - registered for this type
    return JSONResponse({"detail": exc.message, "version": exc.current}, status_code=412)


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("settings API unavailable: %s", exc)
    return JSONResponse(
        {"detail": "Trade settings are temporarily unavailable; try again in a moment."},
        status_code=503,
        headers={"Retry-After": "2"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Answer bad input with 422 and a sentence per field, a lost database with 503."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(SettingsInvalidError, _invalid_settings)
    app.add_exception_handler(VersionConflictError, _conflict)
    app.add_exception_handler(TemporaryError, _unavailable)
