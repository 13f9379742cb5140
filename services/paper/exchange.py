"""The simulated exchange: places, cancels, looks up and matches orders against the store.

Each mutation reads the balances it changes inside one write transaction (see `Store.write`)
and asks `domain` what happens; a refusal raises a `BinanceError` and rolls everything back.
OCO order lists (`oco`) are placed, canceled and ended here too: when one leg works (fills,
or triggers) or is canceled, the list's single lock is released and the other leg ends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from services.paper import errors
from services.paper.domain import spot as domain
from services.paper.markets import Market
from services.paper.metrics import FILLS, ORDERS
from services.paper.models import (
    ZERO,
    Fill,
    ListStatus,
    NewOco,
    NewOrder,
    Order,
    OrderRef,
    OrderStatus,
    Trade,
)
from services.paper.prices import PriceBoard
from services.paper.store import order_lists
from services.paper.store.database import Store
from services.paper.store.order_lists import ListedOrders
from services.paper.store.transaction import Tx

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
        self.rounds = asyncio.Lock()
        """Held through one matching round (spot `match`, then the futures tick) and through a
        price change with the round it starts: the background matcher and the admin API take
        turns, so the admin's answer counts the fills its own prices caused."""

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
            order = await tx.insert_order(domain.new_order(account_id, request, placed, now))
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
            wallet = await order_lists.unlock(tx, market, order, wallet, OrderStatus.CANCELED, now)
            canceled = replace(order, status=OrderStatus.CANCELED, updated_ms=now)
            await tx.update_order(canceled)
            await tx.put_balances(account_id, wallet.values())
        return canceled

    async def place_oco(self, account_id: int, request: NewOco) -> ListedOrders:
        """Place an OCO order list: both legs rest, its cost locked once."""
        market = self.market(request.symbol)
        now = self.clock()
        last = self.prices.price(market.symbol, now)
        async with self.store.write() as tx:
            return await order_lists.place_oco(tx, market, account_id, request, last, now)

    async def cancel_list(
        self, account_id: int, symbol: str, list_id: int | None, client_id: str | None
    ) -> ListedOrders:
        """Cancel an executing order list: its open legs CANCELED, its lock released;
        Binance's -2011 if there is no such list executing in ``symbol``."""
        market = self.market(symbol)
        now = self.clock()
        async with self.store.write() as tx:
            head = await tx.order_list(account_id, list_id, client_id)
            if head is None or head.symbol != symbol or head.status is not ListStatus.EXECUTING:
                raise errors.unknown_order()
            return await order_lists.cancel_list(tx, market, head, now)

    async def order_list(
        self, account_id: int, list_id: int | None, client_id: str | None
    ) -> ListedOrders:
        """Return an account's order list; Binance's -2018 if there is none."""
        found = await self.store.order_list(account_id, list_id, client_id)
        if found is None:
            raise errors.order_list_does_not_exist()
        return ListedOrders(found[0], tuple(found[1]))

    async def order(self, account_id: int, symbol: str, ref: OrderRef) -> Order:
        """Return an account's order; Binance's -2013 if there is none."""
        self.market(symbol)
        order = await self.store.order(account_id, symbol, ref)
        if order is None:
            raise errors.order_does_not_exist()
        return order

    def _due(self, order: Order, now: int) -> bool:
        if order.symbol not in self.markets:
            return False
        price = self.prices.price(order.symbol, now)
        if order.working:
            return domain.crosses(order.side, order.price, price)
        return domain.triggered(order.type, order.side, order.stop_price, price)

    async def match(self) -> int:
        """Fill every resting order the current prices cross and trigger every conditional
        order they reach; return how many orders that changed."""
        now = self.clock()
        due = [order for order in await self.store.resting_orders() if self._due(order, now)]
        if not due:
            return 0
        async with self.store.write() as tx:
            results = [await self._work(tx, order.order_id, now) for order in due]
        return sum(results)

    async def _work(self, tx: Tx, order_id: int, now: int) -> bool:
        """Fill a crossed resting order, or activate a triggered conditional one; a list's
        other leg expires."""
        order = await tx.order_by_id(order_id)
        if order is None or order.status is not OrderStatus.NEW:
            return False  # canceled, or its list's other leg worked, since the matcher looked
        market = self.markets[order.symbol]
        wallet = await tx.wallet(order.account_id, (market.base, market.quote))
        wallet = await order_lists.unlock(tx, market, order, wallet, OrderStatus.EXPIRED, now)
        if order.working:
            fill, balances = domain.fill_resting(
                market, wallet, order, self.fees, from_locked=False
            )
            placed = domain.Placement(
                OrderStatus.FILLED, order.price, order.orig_qty, fill, balances
            )
        else:
            last = self.prices.price(order.symbol, now)
            placed = domain.activate(market, order, last, wallet, self.fees)
        done = replace(
            order,
            status=placed.status,
            executed_qty=placed.fill.qty if placed.fill else ZERO,
            cumm_quote_qty=placed.fill.quote_qty if placed.fill else ZERO,
            working=True,
            updated_ms=now,
        )
        await tx.update_order(done)
        if placed.fill is not None:
            await tx.insert_trade(_trade(done, placed.fill, now))
        await tx.put_balances(
            order.account_id, order_lists.merged(wallet, placed.balances).values()
        )
        return True
