"""Paper accounts a tenant opens itself: opened on Sparky's paper exchange through its admin
API, then added like any account (keys to Vault, the row, the router's copy) and validated.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from libs.common.messages import AccountMode
from libs.common.records import MarketType, TenantRecord
from services.executor.accounts.service import AccountService, ChangeSavedError, NewAccount
from services.executor.adapters.credentials import REDACTION_HOLDS
from services.executor.adapters.paper_admin import PaperAdmin, PaperExchangeUnavailableError
from services.executor.domain import Account

# The paper exchange imitates Binance, spot and USDⓈ-M futures (its venue row's paper flag).
PAPER_VENUE = "binance"


class PaperNotOfferedError(PaperExchangeUnavailableError):
    """No paper exchange admin token is configured: tenants cannot open paper accounts."""


@dataclass(frozen=True, slots=True)
class NewPaperAccount:
    label: str
    market_type: MarketType
    balances: dict[str, Decimal]


class PaperAccounts:
    """Open paper accounts for tenants; None as ``admin``: none can be opened."""

    def __init__(self, accounts: AccountService, admin: PaperAdmin | None) -> None:
        self._accounts = accounts
        self._admin = admin

    async def open(self, tenant: TenantRecord, new: NewPaperAccount) -> Account:
        """Check the label and the plan, open the account on the paper exchange, add it (its
        keys go to Vault) and validate it; an account opened for nothing is closed again.
        """
        if self._admin is None:
            raise PaperNotOfferedError(
                "Paper accounts cannot be opened here: no paper exchange is configured."
            )
        await self._accounts.check_room(tenant, new.label)
        futures = new.market_type is MarketType.FUTURES
        wallet = new.balances.get("USDT", Decimal(0)) if futures else None
        # For the operator, on the paper exchange (whose labels hold up to 100 characters).
        name = f"{tenant.tenant_id}/{new.label}"[:100]
        opened = await self._admin.open(name, new.balances, wallet)
        credentials = opened.credentials
        REDACTION_HOLDS.hold(credentials.secrets())
        try:
            spec = NewAccount(
                new.label, PAPER_VENUE, AccountMode.PAPER, new.market_type, credentials
            )
            try:
                account = await self._accounts.add(tenant, spec)
            except ChangeSavedError:
                raise  # committed: the account exists, keep it open
            except Exception:
                await self._admin.close(opened.account_id)
                raise
            return await self._accounts.validate_new(account, credentials)
        finally:
            REDACTION_HOLDS.release(credentials.secrets())
