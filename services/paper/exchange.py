"""The simulated exchange: places, cancels, looks up and matches orders against the store.

Each mutation reads the balances it changes inside one write transaction (see `Store.write`)
and asks `domain` what happens; a refusal raises a `BinanceError` and rolls everything back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from services.paper import domain, errors
from services.paper.markets import Market
from services.paper.metrics import FILLS, ORDERS
from services.paper.models import ZERO, Fill, NewOrder, Order, OrderRef, OrderStatus, Trade
from services.paper.prices import PriceBoard
from services.paper.store import Store
from services.paper.transaction import Tx

Clock = Callable[[], int]
"""Milliseconds since the Unix epoch; injected so tests control time."""


def wall_clock_ms() -> int:
    """Return the wall-clock time in milliseconds."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """A new order and the trades it made at once."""

    order: Order
    trades: tuple[Trade, ...]


def _new_order(account_id: int, request: NewOrder, placed: domain.Placement, now: int) -> Order:
    fill = placed.fill
    return Order(
        order_id=0,
        account_id=account_id,
        symbol=request.symbol,
        client_order_id=request.client_order_id,
        side=request.side,
        type=request.type,
        time_in_force=request.time_in_force,
        price=placed.price,
        orig_qty=placed.orig_qty,
        orig_quote_qty=request.quote_qty or ZERO,
        executed_qty=fill.qty if fill else ZERO,
        cumm_quote_qty=fill.quote_qty if fill else ZERO,
        status=placed.status,
        created_ms=now,
        updated_ms=now,
    )


def _trade(order: Order, fill: Fill, now: int) -> Trade:
    FILLS.labels("maker" if fill.is_maker else "taker").inc()
    return Trade(
        trade_id=0,
        order_id=order.order_id,
        account_id=order.account_id,
        symbol=order.symbol,
        side=order.side,
        price=fill.price,
        qty=fill.qty,
        quote_qty=fill.quote_qty,
        commission=fill.commission,
        commission_asset=fill.commission_asset,
        is_maker=fill.is_maker,
        time_ms=now,
    )


class PaperExchange:
    """Orders and balances of every paper account."""

    def __init__(
        self,
        store: Store,
        markets: Mapping[str, Market],
        prices: PriceBoard,
        fees: domain.Fees,
        clock: Clock = wall_clock_ms,
    ) -> None:
        self.store = store
        self.markets = markets
        self.prices = prices
        self.fees = fees
        self.clock = clock

    def market(self, symbol: str) -> Market:
        """Return a listed market, or raise Binance's "Invalid symbol."."""
        market = self.markets.get(symbol)
        if market is None:
            raise errors.invalid_symbol()
        return market

    def price(self, symbol: str) -> Decimal:
        """Return the current price of a listed market."""
        return self.prices.price(self.market(symbol).symbol, self.clock())

    async def place(self, account_id: int, request: NewOrder) -> PlacedOrder:
        """Place a new order for an account; raise a BinanceError if it is refused."""
        try:
            placed = await self._place(account_id, request)
        except errors.BinanceError as exc:
            ORDERS.labels(request.type.value, str(exc.code)).inc()
            raise
        ORDERS.labels(request.type.value, placed.order.status.value).inc()
        return placed

    async def _place(self, account_id: int, request: NewOrder) -> PlacedOrder:
        market = self.market(request.symbol)
        now = self.clock()
        last = self.prices.price(market.symbol, now)
        async with self.store.write() as tx:
            # A reused client order id is refused before anything else is judged, so a
            # resubmission is always recognised as one (not, say, as insufficient funds).
            if await tx.client_id_taken(account_id, request.client_order_id):
                raise errors.duplicate_order()
            wallet = await tx.wallet(account_id, (market.base, market.quote))
            placed = domain.place(market, request, last, wallet, self.fees)
            order = await tx.insert_order(_new_order(account_id, request, placed, now))
            trades: tuple[Trade, ...] = ()
            if placed.fill is not None:
                trades = (await tx.insert_trade(_trade(order, placed.fill, now)),)
            await tx.put_balances(account_id, placed.balances)
        return PlacedOrder(order, trades)

    async def cancel(self, account_id: int, symbol: str, ref: OrderRef) -> Order:
        """Cancel an open order and unlock its cost; Binance's -2011 if it is not open."""
        market = self.market(symbol)
        now = self.clock()
        async with self.store.write() as tx:
            order = await tx.order(account_id, symbol, ref)
            if order is None or order.status is not OrderStatus.NEW:
                raise errors.unknown_order()
            wallet = await tx.wallet(account_id, (market.base, market.quote))
            balances = domain.release(market, wallet, order)
            canceled = replace(order, status=OrderStatus.CANCELED, updated_ms=now)
            await tx.update_order(canceled)
            await tx.put_balances(account_id, balances)
        return canceled

    async def order(self, account_id: int, symbol: str, ref: OrderRef) -> Order:
        """Return an account's order; Binance's -2013 if there is none."""
        self.market(symbol)
        order = await self.store.order(account_id, symbol, ref)
        if order is None:
            raise errors.order_does_not_exist()
        return order

    async def match(self) -> int:
        """Fill every resting order the current prices cross; return how many filled."""
        now = self.clock()
        crossing = [
            order
            for order in await self.store.resting_orders()
            if order.symbol in self.markets
            and domain.crosses(order.side, order.price, self.prices.price(order.symbol, now))
        ]
        if not crossing:
            return 0
        async with self.store.write() as tx:
            results = [await self._fill_resting(tx, order.order_id, now) for order in crossing]
        return sum(results)

    async def _fill_resting(self, tx: Tx, order_id: int, now: int) -> bool:
        order = await tx.order_by_id(order_id)
        if order is None or order.status is not OrderStatus.NEW:
            return False  # canceled since the matcher looked
        market = self.markets[order.symbol]
        wallet = await tx.wallet(order.account_id, (market.base, market.quote))
        fill, balances = domain.fill_resting(market, wallet, order, self.fees)
        done = replace(
            order,
            status=OrderStatus.FILLED,
            executed_qty=fill.qty,
            cumm_quote_qty=fill.quote_qty,
            updated_ms=now,
        )
        await tx.update_order(done)
        await tx.insert_trade(_trade(done, fill, now))
        await tx.put_balances(order.account_id, balances)
        return True
