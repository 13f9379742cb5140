"""The futures exchange: orders, algo orders, positions, liquidation and funding over the store.

Each call runs one transaction (`Store.write` or `Store.read`) and leaves the decisions to
`execution` and `domain`. `tick` is what the price feed does: fill resting limits, trigger
algo orders and liquidate, each in its own transaction so one refusal never blocks the rest.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from services.paper import errors
from services.paper.domain import futures as domain
from services.paper.domain import spot
from services.paper.futures import errors as ferrors
from services.paper.futures import execution
from services.paper.futures.models import (
    AlgoOrder,
    AlgoStatus,
    FuturesOrder,
    FuturesStatus,
    FuturesTrade,
    FuturesType,
    Income,
    IncomeType,
    MarginType,
    NewAlgoOrder,
    NewFuturesOrder,
    Position,
)
from services.paper.markets import Market
from services.paper.models import ZERO
from services.paper.prices import PriceBoard
from services.paper.store.database import Store

FUNDING_CLOCK = "funding"


@dataclass(frozen=True, slots=True)
class FuturesSettings:
    """The futures settings the engine needs."""

    fees: domain.FuturesFees
    default_leverage: int = 20
    max_leverage: int = 125
    funding_interval_ms: int = 8 * 3_600_000


@dataclass(frozen=True, slots=True)
class AccountState:
    """An account's wallet and positions at the current marks (``account``, ``positionRisk``)."""

    exposure: domain.Exposure
    maintenance_rate: Decimal

    def liquidation_price(self, position: Position) -> Decimal:
        """Return the position's liquidation price at the current wallet."""
        return domain.liquidation_price(
            position, self.exposure.cross_wallet(), self.maintenance_rate
        )


class FuturesExchange:
    """Every account's futures wallet, positions and orders."""

    def __init__(
        self,
        store: Store,
        markets: Mapping[str, Market],
        prices: PriceBoard,
        settings: FuturesSettings,
        clock: Callable[[], int],
    ) -> None:
        self.store = store
        self.markets = markets
        self.prices = prices
        self.settings = settings
        self.clock = clock
        self.venue = execution.Venue(markets, self.mark, settings.fees, settings.default_leverage)

    def market(self, symbol: str) -> Market:
        """Return a listed perpetual, or Binance's "Invalid symbol."."""
        market = self.markets.get(symbol)
        if market is None:
            raise errors.invalid_symbol()
        return market

    def mark(self, symbol: str) -> Decimal:
        """Return the mark (and last) price of a perpetual: the shared price feed's."""
        return self.prices.price(symbol, self.clock())

    def next_funding_ms(self) -> int:
        """Return the next funding time (multiples of the interval since the epoch)."""
        interval = self.settings.funding_interval_ms
        return (self.clock() // interval + 1) * interval

    # orders

    async def place(self, account_id: int, req: NewFuturesOrder) -> FuturesOrder:
        """Place a MARKET or LIMIT order; raise Binance's refusal."""
        self.market(req.symbol)
        async with self.store.write() as tx:
            return execution.place(tx.futures, self.venue, account_id, req, self.clock())

    async def order(
        self, account_id: int, symbol: str, order_id: int | None, client_id: str | None
    ) -> FuturesOrder:
        """Return an order; -2013 when there is none."""
        self.market(symbol)
        async with self.store.read() as tx:
            found = tx.futures.order(account_id, symbol, order_id, client_id)
        if found is None:
            raise errors.order_does_not_exist()
        return found

    async def cancel(
        self, account_id: int, symbol: str, order_id: int | None, client_id: str | None
    ) -> FuturesOrder:
        """Cancel a resting order; -2011 when it is not open."""
        self.market(symbol)
        async with self.store.write() as tx:
            found = tx.futures.order(account_id, symbol, order_id, client_id)
            if found is None or found.status is not FuturesStatus.NEW:
                raise errors.unknown_order()
            canceled = replace(found, status=FuturesStatus.CANCELED, updated_ms=self.clock())
            tx.futures.update_order(canceled)
        return canceled

    async def open_orders(self, account_id: int, symbol: str | None) -> list[FuturesOrder]:
        """Return the account's resting orders."""
        if symbol is not None:
            self.market(symbol)
        async with self.store.read() as tx:
            return tx.futures.open_orders(account_id, symbol)

    async def cancel_all(self, account_id: int, symbol: str) -> int:
        """Cancel every resting order of the account in ``symbol``."""
        self.market(symbol)
        now = self.clock()
        async with self.store.write() as tx:
            found = tx.futures.open_orders(account_id, symbol)
            for order in found:
                tx.futures.update_order(
                    replace(order, status=FuturesStatus.CANCELED, updated_ms=now)
                )
        return len(found)

    # algo orders

    async def place_algo(self, account_id: int, req: NewAlgoOrder) -> AlgoOrder:
        """Accept a conditional order; -2021 if it would trigger at once."""
        market = self.market(req.symbol)
        last = self.mark(req.symbol)
        _check_algo(market, req, last)
        now = self.clock()
        algo = AlgoOrder(
            algo_id=0,
            account_id=account_id,
            symbol=req.symbol,
            client_algo_id=req.client_algo_id,
            side=req.side,
            type=req.type,
            quantity=req.quantity or ZERO,
            trigger_price=req.trigger_price or ZERO,
            price=req.price or ZERO,
            time_in_force=req.time_in_force,
            reduce_only=req.reduce_only,
            close_position=req.close_position,
            callback_rate=req.callback_rate or ZERO,
            activate_price=req.activate_price or ZERO,
            best_price=ZERO,
            status=AlgoStatus.NEW,
            actual_order_id=0,
            executed_qty=ZERO,
            avg_price=ZERO,
            created_ms=now,
            updated_ms=now,
            trigger_ms=0,
        )
        if req.type is FuturesType.TRAILING_STOP_MARKET:
            algo = replace(algo, best_price=domain.trail(algo, last).best)
        async with self.store.write() as tx:
            return tx.futures.insert_algo(algo)

    async def algo(self, account_id: int, algo_id: int | None, client_id: str | None) -> AlgoOrder:
        """Return an algo order; -2013 when there is none."""
        async with self.store.read() as tx:
            found = tx.futures.algo(account_id, algo_id, client_id)
        if found is None:
            raise errors.order_does_not_exist()
        return found

    async def open_algos(self, account_id: int, symbol: str | None) -> list[AlgoOrder]:
        """Return the account's algo orders waiting for their trigger."""
        if symbol is not None:
            self.market(symbol)
        async with self.store.read() as tx:
            return tx.futures.open_algos(account_id, symbol)

    async def cancel_algo(
        self, account_id: int, algo_id: int | None, client_id: str | None
    ) -> AlgoOrder:
        """Cancel a waiting algo order; -2011 when it is not waiting."""
        async with self.store.write() as tx:
            found = tx.futures.algo(account_id, algo_id, client_id)
            if found is None or found.status is not AlgoStatus.NEW:
                raise errors.unknown_order()
            canceled = replace(found, status=AlgoStatus.CANCELED, updated_ms=self.clock())
            tx.futures.update_algo(canceled)
        return canceled

    async def cancel_all_algos(self, account_id: int, symbol: str) -> int:
        """Cancel every waiting algo order of the account in ``symbol``."""
        self.market(symbol)
        now = self.clock()
        async with self.store.write() as tx:
            found = tx.futures.open_algos(account_id, symbol)
            for algo in found:
                tx.futures.update_algo(replace(algo, status=AlgoStatus.CANCELED, updated_ms=now))
        return len(found)

    # settings and account

    async def set_leverage(self, account_id: int, symbol: str, leverage: int) -> Position:
        """Set a symbol's leverage (the margin check uses it from the next order on)."""
        self.market(symbol)
        domain.check_leverage(leverage, self.settings.max_leverage)
        async with self.store.write() as tx:
            position = tx.futures.position(account_id, symbol, self.settings.default_leverage)
            changed = replace(position, leverage=leverage, updated_ms=self.clock())
            tx.futures.put_position(changed)
        return changed

    async def set_margin_type(self, account_id: int, symbol: str, margin: MarginType) -> None:
        """Switch a symbol between cross and isolated: -4046 when unchanged, -4048 while a
        position or resting orders exist.
        """
        self.market(symbol)
        async with self.store.write() as tx:
            position = tx.futures.position(account_id, symbol, self.settings.default_leverage)
            if position.margin_type is margin:
                raise ferrors.margin_type_unchanged()
            if position.amount or tx.futures.open_orders(account_id, symbol):
                raise ferrors.margin_type_with_position()
            tx.futures.put_position(replace(position, margin_type=margin, updated_ms=self.clock()))

    async def state(self, account_id: int) -> AccountState:
        """Return the account's wallet and positions at the current marks."""
        async with self.store.read() as tx:
            book = execution.exposure(tx.futures, self.venue, account_id)
        return AccountState(book, self.settings.fees.maintenance_rate)

    async def trades(
        self, account_id: int, symbol: str, order_id: int | None, from_id: int | None, limit: int
    ) -> list[FuturesTrade]:
        """Return the account's trades in ``symbol``."""
        self.market(symbol)
        async with self.store.read() as tx:
            return tx.futures.trades(account_id, symbol, order_id, from_id, limit)

    async def income(
        self,
        account_id: int,
        symbol: str | None,
        income_type: IncomeType | None,
        window: tuple[int | None, int | None],
        limit: int,
    ) -> list[Income]:
        """Return the account's income rows."""
        if symbol is not None:
            self.market(symbol)
        async with self.store.read() as tx:
            return tx.futures.income(account_id, symbol, income_type, window, limit)

    async def set_wallet(self, account_id: int, balance: Decimal) -> None:
        """Set the account's USDT futures wallet (admin)."""
        async with self.store.write() as tx:
            tx.futures.put_wallet(account_id, balance)

    # the price feed's work

    async def tick(self) -> int:
        """Fill crossing limits, trigger algo orders, liquidate; return how many happened."""
        async with self.store.read() as tx:
            resting = tx.futures.open_orders(None)
            algos = tx.futures.open_algos(None)
            positions = tx.futures.positions(None)
        done = 0
        for order in resting:
            if order.symbol in self.markets and spot.crosses(
                order.side, order.price, self.mark(order.symbol)
            ):
                done += await self._fill_resting(order)
        for algo in algos:
            if algo.symbol in self.markets:
                done += await self._follow(algo)
        for position in positions:
            if position.symbol in self.markets:
                done += await self._liquidate(position)
        return done

    async def _fill_resting(self, order: FuturesOrder) -> int:
        async with self.store.write() as tx:
            filled = execution.fill_resting(tx.futures, self.venue, order, self.clock())
        return int(filled)

    async def _follow(self, algo: AlgoOrder) -> int:
        price = self.mark(algo.symbol)
        async with self.store.write() as tx:
            current = tx.futures.algo(algo.account_id, algo.algo_id, None)
            if current is None or current.status is not AlgoStatus.NEW:
                return 0
            if current.type is FuturesType.TRAILING_STOP_MARKET:
                trail = domain.trail(current, price)
                if trail.best != current.best_price:
                    current = replace(current, best_price=trail.best)
                    tx.futures.update_algo(current)
                fires = trail.fires
            else:
                fires = domain.would_trigger(
                    current.type, current.side, current.trigger_price, price
                )
            if fires:
                execution.trigger(tx.futures, self.venue, current, self.clock())
        return int(fires)

    async def _liquidate(self, position: Position) -> int:
        async with self.store.write() as tx:
            closed = execution.liquidate(tx.futures, self.venue, position, self.clock())
        return int(closed is not None)

    async def settle_funding(self) -> int:
        """Pay funding on every open position now; return how many payments were made."""
        now = self.clock()
        async with self.store.write() as tx:
            paid = [
                execution.pay_funding(tx.futures, self.venue, position, now)
                for position in tx.futures.positions(None)
                if position.symbol in self.markets
            ]
            tx.futures.set_clock(FUNDING_CLOCK, now)
        return sum(1 for income in paid if income is not None)

    async def funding_due(self) -> bool:
        """Tell whether a funding time passed since the last settlement."""
        interval = self.settings.funding_interval_ms
        async with self.store.read() as tx:
            last = tx.futures.clock(FUNDING_CLOCK)
        return last // interval < self.clock() // interval


def _check_amount(market: Market, req: NewAlgoOrder) -> None:
    if req.close_position:
        if req.quantity is not None:
            raise ferrors.not_required("quantity")
        if req.reduce_only:
            raise ferrors.not_required("reduceOnly")
        if req.type is FuturesType.TRAILING_STOP_MARKET:
            raise ferrors.close_position_conflict()
    elif req.quantity is None:
        raise errors.mandatory("quantity")
    else:
        spot.check_qty(market, req.quantity)


def _check_algo(market: Market, req: NewAlgoOrder, last: Decimal) -> None:
    _check_amount(market, req)
    if req.type in {FuturesType.STOP, FuturesType.TAKE_PROFIT}:
        if req.price is None:
            raise errors.mandatory("price")
        spot.check_price(market, req.price)
    if req.type is FuturesType.TRAILING_STOP_MARKET:
        if req.callback_rate is None:
            raise errors.mandatory("callbackRate")
        domain.check_callback_rate(req.callback_rate)
        if req.activate_price is not None:
            spot.check_price(market, req.activate_price)
            domain.check_activation(req.side, req.activate_price, last)
        return
    if req.trigger_price is None:
        raise errors.mandatory("triggerPrice")
    spot.check_price(market, req.trigger_price)
    if domain.would_trigger(req.type, req.side, req.trigger_price, last):
        raise ferrors.would_trigger()


def new_client_id() -> str:
    """Return a client id for a request sent without one (22 characters, like Binance)."""
    return secrets.token_urlsafe(16)[:22].replace("-", "x").replace("_", "y")
