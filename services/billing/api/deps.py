"""What every route needs: the use cases, operator authentication, ids, and error answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Path, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from libs.common import api
from libs.common.auth import api_key_from
from libs.common.db import database_unavailable, install_outage_answers
from libs.common.errors import SparkyError, TemporaryError
from libs.common.ids import TenantId, Ulid
from services.billing.accounts import Accounts
from services.billing.api_keys import ApiKeys
from services.billing.domain.operators import Operator
from services.billing.errors import (
    BillingError,
    ConflictError,
    InvalidRequestError,
    LimitReachedError,
    NotConfiguredError,
    NotFoundError,
    NothingCreatedError,
    PaymentProviderError,
    PublishError,
    SignatureError,
)
from services.billing.operators import AuditLog, Operators
from services.billing.payments import Payments
from services.billing.signups import Signups
from services.billing.usage import Usage
from services.billing.webhooks import Webhooks

RETRY_AFTER_S = 5
TenantIdPath = Annotated[TenantId, Path(description="The tenant's id.")]
WebhookId = Annotated[Ulid, Path(description="The webhook's id.")]
ApiKeyId = Annotated[Ulid, Path(description="The API key's id.")]


@dataclass(frozen=True, slots=True)
class Services:
    """The use cases, built once per app."""

    accounts: Accounts
    webhooks: Webhooks
    api_keys: ApiKeys
    payments: Payments
    usage: Usage
    operators: Operators
    audit: AuditLog
    signups: Signups


def services(request: Request) -> Services:
    """FastAPI dependency: the app's use cases."""
    found: Services = request.app.state.services
    return found


async def require_operator(request: Request) -> Operator:
    """FastAPI dependency: the operator whose own live token the request carries (401 for
    anything else: a revoked token, a tenant API key, none).
    """
    operator = await services(request).operators.authenticate(api_key_from(request) or "")
    if operator is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="This needs an operator token of yours: send 'Authorization: Bearer sop_…'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.operator = operator  # for the audit log (`api.audited`)
    return operator


ServicesDep = Annotated[Services, Depends(services)]
CurrentOperator = Annotated[Operator, Depends(require_operator)]

_STATUS: dict[type[SparkyError], int] = {
    NotFoundError: status.HTTP_404_NOT_FOUND,
    ConflictError: status.HTTP_409_CONFLICT,
    LimitReachedError: status.HTTP_403_FORBIDDEN,
    InvalidRequestError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    SignatureError: status.HTTP_400_BAD_REQUEST,
    NotConfiguredError: status.HTTP_503_SERVICE_UNAVAILABLE,
    NothingCreatedError: status.HTTP_503_SERVICE_UNAVAILABLE,
    PaymentProviderError: status.HTTP_503_SERVICE_UNAVAILABLE,
    PublishError: status.HTTP_503_SERVICE_UNAVAILABLE,
}

_PUBLISH_FAILED = (
    "The change is saved but not yet in effect everywhere; it will be within a minute. "
    "Retrying is safe."
)


async def _answer(request: Request, exc: Exception) -> Response:
    code = next(c for kind, c in _STATUS.items() if isinstance(exc, kind))
    detail = _PUBLISH_FAILED if isinstance(exc, PublishError) else _message(exc)
    headers = (
        {"Retry-After": str(RETRY_AFTER_S)} if code == status.HTTP_503_SERVICE_UNAVAILABLE else {}
    )
    return api.error_response(code, detail, headers=headers)


def status_of(exc: Exception) -> int:
    """Return the status an exception a route raised is answered with."""
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, RequestValidationError):
        return status.HTTP_422_UNPROCESSABLE_CONTENT
    if database_unavailable(exc) or isinstance(exc, TemporaryError):
        return status.HTTP_503_SERVICE_UNAVAILABLE
    found = (code for kind, code in _STATUS.items() if isinstance(exc, kind))
    return next(found, status.HTTP_500_INTERNAL_SERVER_ERROR)


def _message(exc: Exception) -> str:
    if isinstance(exc, BillingError):
        return exc.message
    return str(exc)


def install_error_answers(app: FastAPI) -> None:
    """Answer in the common error shape: billing's errors with their status code and a sentence
    for the caller, an unreachable database (or NATS) with 503.
    """
    api.install_error_answers(app)
    install_outage_answers(app)
    for kind in _STATUS:
        app.add_exception_handler(kind, _answer)
