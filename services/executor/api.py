"""``/api/v1/exchange-accounts``: a tenant's exchange accounts. Thin routes over
`AccountService`; errors become answers in words (`install_error_handlers`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from libs.common.auth import CurrentTenant
from libs.common.errors import PermanentError, TemporaryError
from libs.common.redaction import redact
from services.executor.accounts import AccountService, NewAccount, PlanLimitError
from services.executor.credentials import REDACTION_HOLDS
from services.executor.errors import NotFoundError
from services.executor.schemas import AccountList, AccountView, KeysUpdateBody, NewAccountBody

router = APIRouter(prefix="/api/v1/exchange-accounts", tags=["exchange accounts"])


def _service(request: Request) -> AccountService:
    service: AccountService = request.app.state.accounts
    return service


Service = Annotated[AccountService, Depends(_service)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def add_account(body: NewAccountBody, tenant: CurrentTenant, service: Service) -> AccountView:
    """Add an exchange account; its keys go to the vault and are never shown again."""
    credentials = body.credentials()
    REDACTION_HOLDS.hold(credentials.secrets())
    try:
        new = NewAccount(body.label, body.exchange_id, body.mode, body.market_type, credentials)
        account = await service.add(tenant.tenant, new)
        if body.validate_keys:
            account = await service.validate_new(account, credentials)
    finally:
        REDACTION_HOLDS.release(credentials.secrets())
    return AccountView.of(account)


@router.get("")
async def list_accounts(tenant: CurrentTenant, service: Service) -> AccountList:
    """List your exchange accounts and whether their keys work."""
    accounts = await service.of_tenant(tenant.tenant_id)
    return AccountList(accounts=[AccountView.of(a) for a in accounts])


@router.get("/{label}")
async def get_account(label: str, tenant: CurrentTenant, service: Service) -> AccountView:
    """Show one exchange account."""
    return AccountView.of(await service.get(tenant.tenant_id, label))


@router.patch("/{label}")
async def replace_keys(
    label: str, body: KeysUpdateBody, tenant: CurrentTenant, service: Service
) -> AccountView:
    """Replace the account's API keys."""
    credentials = body.credentials()
    REDACTION_HOLDS.hold(credentials.secrets())
    try:
        account = await service.replace_keys(tenant.tenant_id, label, credentials)
        if body.validate_keys:
            account = await service.validate_new(account, credentials)
    finally:
        REDACTION_HOLDS.release(credentials.secrets())
    return AccountView.of(account)


@router.post("/{label}/validate")
async def validate_account(label: str, tenant: CurrentTenant, service: Service) -> AccountView:
    """Check the stored keys with the exchange (a balance fetch) and record the answer."""
    return AccountView.of(await service.validate(tenant.tenant_id, label))


@router.delete("/{label}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_account(label: str, tenant: CurrentTenant, service: Service) -> Response:
    """Remove the account and delete its keys from the vault."""
    await service.remove(tenant.tenant_id, label)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _status_of(exc: PermanentError) -> int:
    if isinstance(exc, NotFoundError):
        return status.HTTP_404_NOT_FOUND
    if isinstance(exc, PlanLimitError):
        return status.HTTP_403_FORBIDDEN
    return status.HTTP_409_CONFLICT


async def _permanent(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PermanentError)  # noqa: S101 - registered for this class only
    return JSONResponse({"detail": exc.message, "code": exc.code}, status_code=_status_of(exc))


async def _temporary(request: Request, exc: Exception) -> JSONResponse:
    message = exc.message if isinstance(exc, TemporaryError) else str(exc)
    return JSONResponse(
        {"detail": f"Temporarily unavailable, nothing was changed; try again shortly. ({message})"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    # FastAPI echoes each field's input; a body holding API keys must never come back.
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this class only
    errors = [
        {"loc": list(e.get("loc", ())), "msg": redact(str(e.get("msg", ""))), "type": e.get("type")}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def install_error_handlers(app: FastAPI) -> None:
    """Answer the API's errors in words, without echoing what was sent."""
    app.add_exception_handler(PermanentError, _permanent)
    app.add_exception_handler(TemporaryError, _temporary)
    app.add_exception_handler(RequestValidationError, _invalid)
