"""``/api/v1/exchange-accounts``: a tenant's exchange accounts. Thin routes over
`AccountService`; errors become answers in words (`install_error_handlers`).
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Request, Response, status

from libs.common import api
from libs.common.auth import CurrentTenant
from libs.common.db import install_outage_answers
from libs.common.errors import PermanentError
from services.executor.accounts.paper import NewPaperAccount, PaperAccounts, PaperNotOfferedError
from services.executor.accounts.service import (
    AccountService,
    ChangeSavedError,
    NewAccount,
    PlanLimitError,
)
from services.executor.adapters.credentials import REDACTION_HOLDS
from services.executor.adapters.paper_admin import PaperExchangeUnavailableError
from services.executor.api.schemas import (
    LABEL_PATTERN,
    AccountList,
    AccountView,
    KeysUpdateBody,
    NewAccountBody,
    NewPaperAccountBody,
)
from services.executor.errors import NotFoundError

_log = logging.getLogger(__name__)

# Every route: no valid key (401), a suspended account (403), starting up or an outage (503).
router = APIRouter(
    prefix="/api/v1/exchange-accounts",
    tags=["exchange accounts"],
    responses=api.answers(401, 403, 503),
)
Label = Annotated[str, Path(pattern=LABEL_PATTERN, description="The account's label.")]
ONE = api.answers(404)


def _service(request: Request) -> AccountService:
    service: AccountService = request.app.state.accounts
    return service


Service = Annotated[AccountService, Depends(_service)]


def _paper(request: Request) -> PaperAccounts:
    paper: PaperAccounts = request.app.state.paper_accounts
    return paper


Paper = Annotated[PaperAccounts, Depends(_paper)]


@router.post("", status_code=status.HTTP_201_CREATED, responses=api.answers(403, 409))
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


@router.post("/paper", status_code=status.HTTP_201_CREATED, responses=api.answers(403, 409))
async def open_paper_account(
    body: NewPaperAccountBody, tenant: CurrentTenant, paper: Paper
) -> AccountView:
    """Open a paper account on Sparky's paper exchange (Binance's API, simulated money), with
    its starting balances; Sparky keeps its keys. 409 if the label is taken, 403 beyond your
    plan's accounts, 503 if the paper exchange cannot be reached.
    """
    new = NewPaperAccount(body.label, body.market_type, dict(body.balances))
    return AccountView.of(await paper.open(tenant.tenant, new))


@router.get("")
async def list_accounts(tenant: CurrentTenant, service: Service) -> AccountList:
    """List your exchange accounts and whether their keys work."""
    accounts = await service.of_tenant(tenant.tenant_id)
    return AccountList(accounts=[AccountView.of(a) for a in accounts])


@router.get("/{label}", responses=ONE)
async def get_account(label: Label, tenant: CurrentTenant, service: Service) -> AccountView:
    """Show one exchange account."""
    return AccountView.of(await service.get(tenant.tenant_id, label))


@router.patch("/{label}", responses=api.answers(404, 409))
async def replace_keys(
    label: Label, body: KeysUpdateBody, tenant: CurrentTenant, service: Service
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


@router.post("/{label}/validate", responses=ONE)
async def validate_account(label: Label, tenant: CurrentTenant, service: Service) -> AccountView:
    """Check the stored keys with the exchange (a balance fetch) and record the answer."""
    return AccountView.of(await service.validate(tenant.tenant_id, label))


@router.delete("/{label}", status_code=status.HTTP_204_NO_CONTENT, responses=ONE)
async def remove_account(label: Label, tenant: CurrentTenant, service: Service) -> Response:
    """Remove the account and delete its keys from the vault."""
    await service.remove(tenant.tenant_id, label)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _status_of(exc: PermanentError) -> int:
    if isinstance(exc, NotFoundError):
        return status.HTTP_404_NOT_FOUND
    if isinstance(exc, PlanLimitError):
        return status.HTTP_403_FORBIDDEN
    return status.HTTP_409_CONFLICT


async def _permanent(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PermanentError)  # noqa: S101 - registered for this class only
    return api.error_response(_status_of(exc), exc.message, code=exc.code)


async def _paper_unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PaperExchangeUnavailableError)  # noqa: S101 - registered for it
    _log.warning("paper account not opened", extra={"reason": exc.message})
    if isinstance(exc, PaperNotOfferedError):
        return api.unavailable(exc.message)
    return api.unavailable(
        "The paper exchange cannot open an account now; nothing was created. Try again in a minute."
    )


async def _saved(request: Request, exc: Exception) -> Response:
    return api.unavailable(
        "The change is saved, but not yet known everywhere: it will be within a minute. "
        "Read the account to see it."
    )


def install_error_handlers(app: FastAPI) -> None:
    """Answer the API's errors in the common shape, without echoing what was sent."""
    api.install_error_answers(app)
    install_outage_answers(app)
    app.add_exception_handler(PermanentError, _permanent)
    app.add_exception_handler(ChangeSavedError, _saved)
    app.add_exception_handler(PaperExchangeUnavailableError, _paper_unavailable)
