"""The operator's API (``/admin``, bearer token): accounts, prices, faults.

Not part of Binance's API: tests, the local demo and Sparky's operators use it to create
paper accounts, pin prices and inject faults.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from libs.common.api import answers
from libs.common.messages.types import AsciiNumber, Text
from services.paper import accounts, errors
from services.paper.api.deps import Exchange, faults_of, keys_of
from services.paper.api.futures import Futures
from services.paper.domain import futures as futures_domain
from services.paper.domain import spot as domain
from services.paper.exchange import PaperExchange
from services.paper.faults import ActiveFault, FaultSpec
from services.paper.futures.engine import AccountState, FuturesExchange
from services.paper.runtime import runtime_of

_log = logging.getLogger(__name__)

MAX_AMOUNT = Decimal(10**15)
Asset = Annotated[str, StringConstraints(pattern=accounts.ASSET_PATTERN)]
# Capped so that every amount keeps 8 decimals within Decimal's 28 digits (a larger futures
# wallet made the account view fail).
Amount = Annotated[Decimal, AsciiNumber, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)]
Price = Annotated[Decimal, AsciiNumber, Field(gt=0, allow_inf_nan=False)]
AccountId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The paper account's id.")]


async def admin_auth(request: Request) -> None:
    """Refuse any request without the admin bearer token."""
    expected = runtime_of(request).settings.admin_token.get_secret_value()
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid admin bearer token is needed")


router = APIRouter(
    prefix="/admin", dependencies=[Depends(admin_auth)], tags=["admin"], responses=answers(401)
)


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AccountCreate(_Body):
    """A new paper account: a label for people, and its starting (free) balances."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "label": "fuzz trader",
                    "balances": {"USDT": "10000", "BTC": "0.5"},
                    "futures_wallet": "10000",
                }
            ]
        }
    )

    label: Text = Field(default="", max_length=100)
    balances: dict[Asset, Amount] = Field(default_factory=dict)
    futures_wallet: Amount | None = Field(
        default=None, description="USDT in the USDⓈ-M futures wallet (default: the setting)."
    )


class AccountCreated(_Body):
    """The new account's credentials: shown this once, never again."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account_id": 7,
                    "label": "fuzz trader",
                    "api_key": "pk_7f3a9c2e4b6d8f1a3c5e7b9d",
                    "secret": "ps_2b4d6f8a1c3e5a7c9e1b3d5f7a9c2e4b",
                }
            ]
        }
    )

    account_id: int
    label: str
    api_key: str
    secret: str


class BalanceView(_Body):
    """One asset of an account."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"asset": "USDT", "free": "9400", "locked": "600"}]}
    )

    asset: str
    free: Decimal
    locked: Decimal


class PositionView(_Body):
    """One futures position at the current mark, with its settings."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "symbol": "BTCUSDT",
                    "amount": "0.01",
                    "entry_price": "60000",
                    "leverage": 5,
                    "margin_type": "cross",
                    "isolated_margin": "0",
                    "unrealized_pnl": "2.5",
                    "liquidation_price": "48510.2",
                }
            ]
        }
    )

    symbol: str
    amount: Decimal
    entry_price: Decimal
    leverage: int
    margin_type: str
    isolated_margin: Decimal
    unrealized_pnl: Decimal
    liquidation_price: Decimal


class FuturesView(_Body):
    """An account's USDT futures wallet and its positions."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "wallet": "10000",
                    "available": "9877.5",
                    "positions": [
                        {
                            "symbol": "BTCUSDT",
                            "amount": "0.01",
                            "entry_price": "60000",
                            "leverage": 5,
                            "margin_type": "cross",
                            "isolated_margin": "0",
                            "unrealized_pnl": "2.5",
                            "liquidation_price": "48510.2",
                        }
                    ],
                }
            ]
        }
    )

    wallet: Decimal
    available: Decimal
    positions: list[PositionView]


class AccountView(_Body):
    """An account's spot balances and futures wallet (never its credentials)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account_id": 7,
                    "balances": [
                        {"asset": "USDT", "free": "9400", "locked": "600"},
                        {"asset": "BTC", "free": "0.5", "locked": "0"},
                    ],
                    "futures": {
                        "wallet": "10000",
                        "available": "9877.5",
                        "positions": [
                            {
                                "symbol": "BTCUSDT",
                                "amount": "0.01",
                                "entry_price": "60000",
                                "leverage": 5,
                                "margin_type": "cross",
                                "isolated_margin": "0",
                                "unrealized_pnl": "2.5",
                                "liquidation_price": "48510.2",
                            }
                        ],
                    },
                }
            ]
        }
    )

    account_id: int
    balances: list[BalanceView]
    futures: FuturesView | None = None


class BalancesUpdate(_Body):
    """Free amounts to set (what open orders lock is kept), and the futures wallet."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"balances": {"USDT": "25000"}, "futures_wallet": "5000"}]}
    )

    balances: dict[Asset, Amount] = Field(default_factory=dict)
    futures_wallet: Amount | None = Field(default=None, description="USDT futures wallet.")


class PricesUpdate(_Body):
    """Prices to pin, by exchange symbol (``BTCUSDT``)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"prices": {"BTCUSDT": "60000", "ETHUSDT": "3000"}}]}
    )

    prices: dict[str, Price]


class PricesView(_Body):
    """Every market's current price, and how many resting orders the last change filled."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"prices": {"BTCUSDT": "60000", "ETHUSDT": "3000"}, "filled": 2, "futures": 1}
            ]
        }
    )

    prices: dict[str, Decimal]
    filled: int = 0
    futures: int = Field(
        default=0, description="Futures fills, algo triggers and liquidations the change caused."
    )


class FundingView(_Body):
    """How many funding payments a settlement made."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"payments": 3}]})

    payments: int


def _futures_view(state: AccountState) -> FuturesView:
    book = state.exposure
    positions = [
        PositionView(
            symbol=p.symbol,
            amount=p.amount,
            entry_price=p.entry_price,
            leverage=p.leverage,
            margin_type=p.margin_type.value,
            isolated_margin=p.isolated_margin,
            unrealized_pnl=futures_domain.unrealized(p, book.marks[p.symbol]),
            liquidation_price=state.liquidation_price(p),
        )
        for p in book.positions
        if p.amount
    ]
    return FuturesView(wallet=book.wallet, available=book.available(), positions=positions)


async def _view(account_id: AccountId, exchange: Exchange, futures: Futures) -> AccountView:
    balances = await exchange.store.balances(account_id)
    views = [BalanceView(asset=b.asset, free=b.free, locked=b.locked) for b in balances]
    state = await futures.state(account_id)
    return AccountView(account_id=account_id, balances=views, futures=_futures_view(state))


@router.post("/accounts", status_code=status.HTTP_201_CREATED)
async def create_account(
    body: AccountCreate, exchange: Exchange, futures: Futures, request: Request
) -> AccountCreated:
    """Create a paper account and return its API key and secret, once."""
    new = await accounts.create_account(exchange.store, body.label, body.balances, exchange.clock())
    wallet = body.futures_wallet
    if wallet is None:
        wallet = runtime_of(request).settings.futures_wallet_default
    await futures.set_wallet(new.account_id, wallet)
    _log.info("paper account created", extra={"account_id": new.account_id})
    return AccountCreated(
        account_id=new.account_id, label=new.label, api_key=new.api_key, secret=new.secret
    )


async def _known(exchange: Exchange, account_id: int) -> None:
    if not await exchange.store.account_exists(account_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"there is no account {account_id}")


@router.get("/accounts/{account_id}", responses=answers(404))
async def get_account(account_id: AccountId, exchange: Exchange, futures: Futures) -> AccountView:
    """Show an account's balances, futures wallet and positions."""
    await _known(exchange, account_id)
    return await _view(account_id, exchange, futures)


@router.put("/accounts/{account_id}/balances", responses=answers(404))
async def set_balances(
    account_id: AccountId, body: BalancesUpdate, exchange: Exchange, futures: Futures
) -> AccountView:
    """Set the free amounts of some assets of an account, and its futures wallet."""
    await _known(exchange, account_id)
    await accounts.set_free_balances(exchange.store, account_id, body.balances)
    if body.futures_wallet is not None:
        await futures.set_wallet(account_id, body.futures_wallet)
    return await _view(account_id, exchange, futures)


@router.delete(
    "/accounts/{account_id}", status_code=status.HTTP_204_NO_CONTENT, responses=answers(404)
)
async def delete_account(account_id: AccountId, exchange: Exchange, request: Request) -> Response:
    """Delete an account, its balances, orders and trades: its API key is refused from now on
    (-2015) and the account is not found (404).
    """
    async with exchange.store.write() as tx:
        found = await tx.delete_account(account_id)
    keys_of(request).forget_all()
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"there is no account {account_id}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _check_prices(exchange: Exchange, prices: dict[str, Price]) -> None:
    for symbol, price in prices.items():
        try:
            domain.check_price(exchange.market(symbol), price)
        except errors.BinanceError:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                f"{symbol}: {price} is not a listed market with a price on its tick",
            ) from None


async def _matched(
    exchange: PaperExchange,
    futures: FuturesExchange,
    change: Callable[[], Awaitable[None]] | None = None,
    *,
    match: bool = True,
) -> PricesView:
    """Make ``change`` to the prices, then (``match``) run a matching round at once: the spot
    orders they cross, then the futures tick. Both in turn with the background matcher, so
    the answer counts what this change caused."""
    async with exchange.rounds:
        if change is not None:
            await change()
        filled = await exchange.match() if match else 0
        moved = await futures.tick() if match else 0
    return PricesView(
        prices=exchange.prices.snapshot(exchange.clock()), filled=filled, futures=moved
    )


@router.get("/prices")
async def get_prices(exchange: Exchange) -> PricesView:
    """Show every market's current price."""
    return PricesView(prices=exchange.prices.snapshot(exchange.clock()))


@router.put("/prices", responses=answers(422))
async def pin_prices(
    body: PricesUpdate, exchange: Exchange, futures: Futures, *, match: bool = True
) -> PricesView:
    """Pin prices (kept across restarts), then fill the resting orders they cross, trigger
    the futures algo orders they reach and liquidate the positions they sink.

    With ``?match=false`` all that is left to the background matcher's next round.
    """
    _check_prices(exchange, body.prices)

    async def pin() -> None:
        async with exchange.store.write() as tx:
            await tx.pin_prices(body.prices)
        exchange.prices.pin(body.prices)

    return await _matched(exchange, futures, pin, match=match)


@router.delete("/prices")
async def unpin_prices(exchange: Exchange, futures: Futures) -> PricesView:
    """Let every price follow the feed again."""

    async def unpin() -> None:
        async with exchange.store.write() as tx:
            await tx.unpin_all()
        exchange.prices.unpin_all()

    return await _matched(exchange, futures, unpin)


@router.post("/match")
async def match_now(exchange: Exchange, futures: Futures) -> PricesView:
    """Fill the resting orders the current prices cross, trigger algo orders and liquidate,
    without waiting for the matcher.
    """
    return await _matched(exchange, futures)


@router.post("/funding")
async def settle_funding(futures: Futures) -> FundingView:
    """Pay funding on every open futures position now (as at a funding time)."""
    return FundingView(payments=await futures.settle_funding())


@router.post("/faults", status_code=status.HTTP_201_CREATED)
async def add_fault(spec: FaultSpec, request: Request) -> ActiveFault:
    """Inject a fault."""
    fault = faults_of(request).add(spec)
    _log.warning("fault injected", extra={"fault": spec.model_dump(mode="json")})
    return fault


@router.get("/faults")
async def list_faults(request: Request) -> list[ActiveFault]:
    """List the faults in force."""
    return faults_of(request).active()


@router.delete("/faults", status_code=status.HTTP_204_NO_CONTENT)
async def clear_faults(request: Request) -> Response:
    """Remove every fault."""
    faults_of(request).clear()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
