"""What every service's HTTP API shares: one error shape, the answers in it, their documentation.

Every refusal, whatever the service, is ``{"error": "<a sentence for the caller>", "errors":
[{"field": …, "message": …}]}`` (``errors`` names each bad field, and is empty otherwise), with
an optional machine-readable ``code``. `install_error_answers` makes FastAPI's own answers
(validation, 404, 405, HTTPException) and `TemporaryError` take that shape, never echoing what
was sent; `answers` documents the statuses of an operation in its OpenAPI, and the app's
OpenAPI document is rewritten so that every answer of FastAPI's own is documented in it too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from libs.common.errors import TemporaryError
from libs.common.messages.types import (
    CONTROL_CHARACTERS,
    CONTROL_CHARACTERS_BUT_LINES,
    MULTILINE_TEXT_PATTERN,
    TEXT_PATTERN,
)
from libs.common.redaction import redact

RETRY_AFTER_S = 5
MAX_SUMMARISED = 5
ERROR_SCHEMA = "ErrorBody"
_NO_BODY = frozenset({204, 304})
_log = logging.getLogger(__name__)


class FieldProblem(BaseModel):
    """What is wrong with one field or parameter."""

    model_config = ConfigDict(frozen=True)

    field: str
    message: str


class ErrorBody(BaseModel):
    """Every error answer of every Sparky API (the paper exchange's Binance API excepted)."""

    model_config = ConfigDict(frozen=True)

    error: str
    errors: list[FieldProblem] = []
    code: str | None = None


_DESCRIPTIONS: Mapping[int, str] = {
    400: "The body cannot be read (not UTF-8, or cut off).",
    401: "No valid credentials: the API key (or token) is missing, unknown, revoked or expired.",
    403: "Not allowed: the account is suspended, or its plan does not allow it.",
    404: "Nothing by that name (or it belongs to someone else).",
    405: "This method is not allowed on this path.",
    408: "The request was not received in time (a slow or stalled client).",
    409: "The request conflicts with what exists.",
    412: "The resource changed since the version named in If-Match.",
    413: "The request body is larger than this API accepts.",
    422: "A parameter or a field of the body is not valid; `errors` names each one.",
    429: "Too many requests; retry after Retry-After seconds.",
    500: "An unexpected error (a bug); nothing is known about whether anything changed.",
    503: "Temporarily unavailable (starting up, or a database, broker or vault cannot be "
    "reached); retry after Retry-After seconds.",
}
_RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Return FastAPI ``responses=`` documenting ``statuses`` with the error shape."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorBody, "description": _DESCRIPTIONS[status]}
        if status in (429, 503):
            entry["headers"] = _RETRY_AFTER_HEADER
        documented[status] = entry
    return documented


def error_response(
    status: int,
    message: str,
    *,
    errors: Iterable[FieldProblem] = (),
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Return an answer in the error shape (a 503 always says when to retry)."""
    if status in _NO_BODY:
        return Response(status_code=status, headers=dict(headers or {}))
    body: dict[str, Any] = {
        "error": message,
        "errors": [problem.model_dump() for problem in errors],
    }
    if code is not None:
        body["code"] = code
    all_headers = dict(headers or {})
    if status == 503:
        all_headers.setdefault("Retry-After", str(RETRY_AFTER_S))
    return JSONResponse(body, status_code=status, headers=all_headers)


def unavailable(message: str, *, retry_after_s: int = RETRY_AFTER_S) -> Response:
    """Return a 503 that says when to retry."""
    return error_response(503, message, headers={"Retry-After": str(retry_after_s)})


def field_problems(errors: Sequence[Any]) -> list[FieldProblem]:
    """Turn pydantic's errors into one sentence per field, without the values sent."""
    return [FieldProblem(field=_field(e.get("loc", ())), message=_sentence(e)) for e in errors]


def _field(location: Sequence[Any]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


def _sentence(error: Mapping[str, Any]) -> str:
    kind = error.get("type")
    pattern = (error.get("ctx") or {}).get("pattern")
    if kind == "string_pattern_mismatch" and pattern == TEXT_PATTERN:
        return CONTROL_CHARACTERS
    if kind == "string_pattern_mismatch" and pattern == MULTILINE_TEXT_PATTERN:
        return CONTROL_CHARACTERS_BUT_LINES
    if kind == "string_unicode":
        return "must be valid Unicode text"
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    return redact(message)  # a validator's message may quote a value; never a secret


def invalid_request(problems: Sequence[FieldProblem], prefix: str = "Invalid request") -> Response:
    """Return a 422 naming each problem, summarised in ``error``."""
    shown = "; ".join(f"{p.field}: {p.message}" for p in problems[:MAX_SUMMARISED])
    more = len(problems) - MAX_SUMMARISED
    summary = f"{shown} (and {more} more)" if more > 0 else shown
    return error_response(422, f"{prefix}: {summary or 'not valid'}.", errors=problems)


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this class
    return invalid_request(field_problems(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this class
    detail = exc.detail if isinstance(exc.detail, str) else "The request was refused."
    return error_response(exc.status_code, detail, headers=exc.headers)


async def _temporary(request: Request, exc: Exception) -> Response:
    # A TemporaryError's own message is for the logs (it may name a host or a SQLSTATE).
    _log.warning("answered 503: %s", exc)
    retry_after = getattr(exc, "retry_after", None)
    seconds = max(1, round(retry_after)) if retry_after else RETRY_AFTER_S
    return unavailable("Temporarily unavailable; try again in a moment.", retry_after_s=seconds)


async def _cut_off(request: Request, exc: Exception) -> Response:
    # The client is gone (or the server cut a stalled body off): nobody reads this answer.
    return error_response(400, "The request was cut off before its end.")


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Starlette logs the traceback and re-raises after this answer.
    return error_response(500, "An unexpected error occurred; it has been logged.")


def install_error_answers(app: FastAPI) -> None:
    """Answer validation errors, HTTP exceptions, `TemporaryError` and bugs in the error shape,
    and document FastAPI's own answers in the app's OpenAPI.

    Register service-specific handlers after this (a subclass's handler takes precedence).
    """
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(TemporaryError, _temporary)
    app.add_exception_handler(ClientDisconnect, _cut_off)
    app.add_exception_handler(Exception, _unexpected)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with 422 in the error shape, and on every operation that takes a body
    the refusals of one that cannot be read (400: FastAPI's own) or is slow or oversized (408,
    413: the server's, `libs.common.http_limits`).
    """
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    add_error_schemas(schemas)
    for path in document.get("paths", {}).values():
        for operation in path.values():
            _document_operation(operation)
    app.openapi_schema = document
    return document


def add_error_schemas(schemas: dict[str, Any]) -> None:
    """Put `ErrorBody` (and what it refers to) among an OpenAPI document's schemas."""
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas.setdefault(ERROR_SCHEMA, schema)


def _document_operation(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    reference = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    error_content = {"application/json": {"schema": reference}}
    if "422" in responses:
        responses["422"] = {"description": _DESCRIPTIONS[422], "content": error_content}
    if "requestBody" in operation:
        for status in (400, 408, 413):
            responses.setdefault(
                str(status), {"description": _DESCRIPTIONS[status], "content": error_content}
            )
