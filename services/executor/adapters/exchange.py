"""One tenant account's ccxt client, behind calls that speak the executor's language.

Every call is timed (``sparky_executor_exchange_call_seconds``) and traced, and its ccxt
exceptions are translated here (`translate`), so nothing above this module sees a ccxt class
or a raw ccxt dict. Numbers leave ccxt as floats parsed from the exchange's decimal strings;
they come back to `Decimal` through their shortest repr, which restores the exchange's digits.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import ccxt.async_support as ccxt
from opentelemetry import trace

from libs.common.messages import Fill, OrderType, Side
from libs.common.records import MarketType
from services.executor.adapters.parse import ExchangeOrder, parse_order, parse_trades, to_decimal
from services.executor.adapters.translate import translate
from services.executor.adapters.venues import Venue
from services.executor.domain import MarketRules
from services.executor.errors import (
    OrderNotFoundError,
    OrderRejectedError,
    SubmissionUnconfirmedError,
)
from services.executor.metrics import EXCHANGE_CALL_SECONDS

T = TypeVar("T")
_tracer = trace.get_tracer("sparky.executor.exchange")
DEFAULT_CALL_BOUND_S = 15.0


def _amounts(raw: Any) -> dict[str, Decimal]:
    return {k: d for k, v in (raw or {}).items() if (d := to_decimal(v)) is not None}


@dataclass(frozen=True, slots=True)
class Balance:
    """By currency: everything held (free + locked in orders), and what is free."""

    total: dict[str, Decimal]
    free: dict[str, Decimal]

    def of(self, currency: str) -> Decimal:
        return self.total.get(currency, Decimal(0))

    def free_of(self, currency: str) -> Decimal:
        return self.free.get(currency, Decimal(0))


class CcxtRounding:
    """The exchange's precision rules for one symbol, through ccxt's helpers."""

    def __init__(self, client: ccxt.Exchange, symbol: str) -> None:
        self._client = client
        self._symbol = symbol

    def amount(self, value: Decimal) -> Decimal:
        try:
            return Decimal(self._client.amount_to_precision(self._symbol, str(value)))
        except ccxt.InvalidOrder:  # below the smallest step: rounds to nothing
            return Decimal(0)

    def price(self, value: Decimal) -> Decimal:
        return Decimal(self._client.price_to_precision(self._symbol, str(value)))


@dataclass(frozen=True, slots=True)
class OcoRequest:
    """A take-profit and a stop-loss selling ``amount`` of a spot position, as one list."""

    symbol: str
    amount: Decimal
    take_profit: Decimal
    stop: Decimal
    stop_limit: Decimal | None
    list_id: str
    take_profit_id: str
    stop_id: str

    def params(self, market_id: str, rounding: CcxtRounding) -> dict[str, str]:
        """Return Binance's ``orderList/oco`` parameters (amounts and prices as exact text)."""
        params = {
            "symbol": market_id,
            "side": "SELL",
            "quantity": format(rounding.amount(self.amount), "f"),
            "aboveType": "LIMIT_MAKER",
            "abovePrice": format(self.take_profit, "f"),
            "aboveClientOrderId": self.take_profit_id,
            "belowStopPrice": format(self.stop, "f"),
            "belowClientOrderId": self.stop_id,
            "listClientOrderId": self.list_id,
        }
        if self.stop_limit is None:
            return params | {"belowType": "STOP_LOSS"}
        return params | {
            "belowType": "STOP_LOSS_LIMIT",
            "belowPrice": format(self.stop_limit, "f"),
            "belowTimeInForce": "GTC",
        }


class ExchangeSession:
    """Translated, timed calls on one account's ccxt client."""

    def __init__(
        self,
        client: ccxt.Exchange,
        venue: Venue,
        *,
        settle_s: float | None = None,
        call_bound_s: float = DEFAULT_CALL_BOUND_S,
    ) -> None:
        self.client = client
        self.venue = venue
        self.call_bound_s = call_bound_s
        self.settle_s = venue.settle_after(call_bound_s) if settle_s is None else settle_s
        self.prices: Callable[[str], Awaitable[Decimal | None]] | None = None
        """Where last prices come from (a shared cache); the account's own client if None."""

    def settled(self, sent_at: datetime | None, now: datetime) -> bool:
        """Whether a creation recorded as sent at ``sent_at`` can no longer reach the exchange:
        it was signed within ``call_bound_s`` of that moment, and the venue refuses a request
        past its receive window (plus a margin for clock skew).
        """
        return sent_at is None or (now - sent_at).total_seconds() >= self.settle_s

    def market(self, symbol: str) -> MarketRules:
        """Return the symbol's rules, or reject an order for a symbol the exchange lacks."""
        market = (self.client.markets or {}).get(symbol)
        if market is None:
            raise OrderRejectedError(
                "bad_symbol", f"The exchange has no market {symbol}; check the symbol."
            )
        limits = market.get("limits") or {}
        return MarketRules(
            symbol=symbol,
            base=str(market["base"]),
            quote=str(market["quote"]),
            min_amount=to_decimal((limits.get("amount") or {}).get("min")),
            min_cost=to_decimal((limits.get("cost") or {}).get("min")),
            amount_step=self._amount_step(market),
        )

    def _amount_step(self, market: dict[str, Any]) -> Decimal | None:
        """Return the lot size (ccxt gives it as a step, or as decimal places)."""
        precision = to_decimal((market.get("precision") or {}).get("amount"))
        if precision is None:
            return None
        if self.client.precisionMode == ccxt.TICK_SIZE:
            return precision
        return Decimal(1).scaleb(-int(precision))

    def rounding(self, symbol: str) -> CcxtRounding:
        return CcxtRounding(self.client, symbol)

    async def balance(self) -> Balance:
        raw = await self.call("fetch_balance", self.client.fetch_balance)
        return Balance(_amounts(raw.get("total")), _amounts(raw.get("free")))

    async def last_price(self, symbol: str) -> Decimal | None:
        """Return the symbol's last price (a public figure: from the shared cache if any)."""
        if self.prices is not None:
            return await self.prices(symbol)
        return await self.own_last_price(symbol)

    async def own_last_price(self, symbol: str) -> Decimal | None:
        ticker = await self.call("fetch_ticker", self.client.fetch_ticker, symbol)
        return to_decimal(ticker.get("last") or ticker.get("close"))

    async def create(
        self,
        *,
        symbol: str,
        order_type: OrderType,
        side: Side,
        amount: Decimal,
        price: Decimal | None,
        client_order_id: str,
        params: dict[str, Any] | None = None,
    ) -> ExchangeOrder:
        """Create the order; a network trouble raises `SubmissionUnconfirmedError`.

        ``params``: venue params beside the client order id (reduce-only, a trigger price).

        Amounts go to ccxt as exact strings. The whole call, ccxt's own throttling included,
        is bounded by ``call_bound_s``, so the request is signed at most that long after the
        caller recorded it as sent: `settled` counts from there.
        """
        ccxt_type = "limit" if price is not None else "market"
        with self._expiring():
            try:
                async with asyncio.timeout(self.call_bound_s):
                    raw = await self.call(
                        "create_order",
                        self.client.create_order,
                        symbol,
                        ccxt_type if params else order_type.value,
                        side.value,
                        format(amount, "f"),  # never an exponent: "0.0000001", not "1E-7"
                        format(price, "f") if price is not None else None,
                        self.venue.create(client_order_id) | (params or {}),
                        creating=True,
                    )
            except TimeoutError as exc:
                raise SubmissionUnconfirmedError(
                    f"the exchange did not answer within {self.call_bound_s:.0f} s"
                ) from exc
        return parse_order(raw)

    async def create_oco(self, oco: OcoRequest) -> list[ExchangeOrder]:
        """Place a take-profit and a stop-loss sell as one list; return its two orders.

        Bounded and translated like `create` (a network trouble raises
        `SubmissionUnconfirmedError`: look the legs up before any resubmission).
        """
        method = self.venue.protection.oco_method
        if method is None:
            raise RuntimeError(f"{self.venue.exchange_id} places no OCO list")
        market = self.client.market(oco.symbol)
        params = oco.params(market["id"], self.rounding(oco.symbol))
        with self._expiring():
            try:
                async with asyncio.timeout(self.call_bound_s):
                    raw = await self.call(
                        "create_oco", getattr(self.client, method), params, creating=True
                    )
            except TimeoutError as exc:
                raise SubmissionUnconfirmedError(
                    f"the exchange did not answer within {self.call_bound_s:.0f} s"
                ) from exc
        reports = raw.get("orderReports") or []
        return [parse_order(self.client.parse_order(r, market)) for r in reports]

    @contextlib.contextmanager
    def _expiring(self) -> Iterator[None]:
        """Give the venue a deadline after which it must refuse the request (OKX ``expTime``),
        where it has one; Binance has its receive window on every signed request.
        """
        header = self.venue.expiry_header
        if header is None:
            yield
            return
        deadline = int((time.time() + self.venue.receive_window_s) * 1000)
        self.client.headers = {**(self.client.headers or {}), header: str(deadline)}
        try:
            yield
        finally:
            self.client.headers = {
                k: v for k, v in (self.client.headers or {}).items() if k != header
            }

    async def find(
        self, symbol: str, client_order_id: str, *, conditional: bool = False
    ) -> ExchangeOrder | None:
        """Look an order up by our client order id; None when the exchange has none.
        ``conditional``: a protective order the venue keeps apart (Binance's Algo orders)."""
        params = self.venue.lookup(client_order_id)
        protection = self.venue.protection
        if conditional and protection.conditional_id_param is not None:
            params = {protection.conditional_id_param: client_order_id}
            params |= protection.conditional_params
        try:
            raw = await self.call("fetch_order", self.client.fetch_order, "", symbol, params)
        except OrderNotFoundError:
            return None
        return parse_order(raw)

    async def fetch(
        self, symbol: str, order_id: str, *, conditional: bool = False
    ) -> ExchangeOrder:
        params = self.venue.protection.conditional_params if conditional else {}
        raw = await self.call("fetch_order", self.client.fetch_order, order_id, symbol, params)
        return parse_order(raw)

    async def cancel(self, symbol: str, order_id: str, *, conditional: bool = False) -> None:
        """Cancel an order; one the exchange no longer has open raises `OrderNotFoundError`."""
        params = self.venue.protection.conditional_params if conditional else {}
        await self.call("cancel_order", self.client.cancel_order, order_id, symbol, params)

    async def trades(self, symbol: str, order_id: str) -> tuple[Fill, ...]:
        """Return every fill of one order."""
        if self.client.has.get("fetchOrderTrades") and self.venue.market is MarketType.SPOT:
            raw = await self.call(
                "fetch_order_trades", self.client.fetch_order_trades, order_id, symbol
            )
        else:  # Binance's fetchOrderTrades is spot-only; its userTrades take the order's id
            raw = await self.call(
                "fetch_my_trades", self.client.fetch_my_trades, symbol, None, None,
                {"orderId": order_id},
            )  # fmt: skip
        return parse_trades([t for t in raw if str(t.get("order")) == order_id])

    async def close(self) -> None:
        await self.client.close()

    async def call(
        self, method: str, fn: Callable[..., Awaitable[T]], *args: Any, creating: bool = False
    ) -> T:
        started = time.perf_counter()
        with _tracer.start_as_current_span(f"ccxt {method}") as span:
            span.set_attribute("exchange", self.venue.exchange_id)
            try:
                return await fn(*args)
            except ccxt.BaseError as exc:
                span.set_attribute("error.type", type(exc).__name__)
                raise translate(exc, self.venue, creating=creating) from exc
            finally:
                EXCHANGE_CALL_SECONDS.labels(self.venue.exchange_id, method).observe(
                    time.perf_counter() - started
                )
