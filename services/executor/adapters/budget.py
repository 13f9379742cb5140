"""A request-weight budget per venue and egress address, shared by every ccxt client of the
process.

Exchanges limit what one address may ask per interval (Binance: 6,000 weight a minute per IP),
whichever account's keys sign the requests: a client per tenant limiting only itself lets 100
open orders polled every 2 s spend twice Binance's limit. The budget charges each request's
weight before it is sent and queues a request that does not fit until the next interval
(orders before status polls), so the limit is never exceeded. The venue's own count, from
its answers, corrects the local estimate; a 429 stops every call for its ``Retry-After``, a 418
(an address ban) until the ban ends. Windows are fixed and aligned on the clock, as Binance's
are. Several replicas behind one address each take a ``share`` of the limit; a ``margin`` is
kept free for what the estimate misses.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from ccxt.base.errors import RateLimitExceeded

from services.executor.metrics import (
    EXCHANGE_REFUSALS,
    EXCHANGE_WEIGHT_LIMIT,
    EXCHANGE_WEIGHT_USED,
    EXCHANGE_WEIGHT_WAIT_SECONDS,
)

URGENT, ROUTINE = 0, 1
"""Priorities: an order creation or cancel goes before a status poll."""


class BudgetExhaustedError(RateLimitExceeded):  # type: ignore[misc]  # ccxt is untyped
    """No room for the request within the caller's bound: it was not sent.

    A ccxt ``RateLimitExceeded``, so the adapter translates it as it would the venue's own
    refusal (an order creation turned away unsent, a poll put off).
    """


@dataclass(frozen=True, slots=True)
class BudgetSettings:
    """How much of each venue's limit this process may use."""

    share: float = 1.0
    """This process's share of the address's limit (1/N for N replicas behind one address)."""
    margin: float = 0.1
    """The part of the limit never planned for (requests the estimate misses)."""
    max_wait_s: float = 30.0
    """The longest a request queues for room before it is refused unsent."""


class WeightBudget:
    """One address's request weight at one venue: charge before sending, queue when full."""

    def __init__(
        self,
        name: str,
        limit: float | None,
        interval_s: float,
        settings: BudgetSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.interval_s = interval_s
        self._clock = clock
        self._max_wait_s = settings.max_wait_s
        self.capacity = None if limit is None else limit * settings.share * (1 - settings.margin)
        self._address_cap = None if limit is None else limit * (1 - settings.margin)
        self._others = 0.0 if limit is None else limit * (1 - settings.share)
        self._window = -1
        self.used = 0.0
        self.reported = 0.0
        self.blocked_until = 0.0
        self._waiters: list[tuple[int, int, float, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        if self.capacity is not None:
            EXCHANGE_WEIGHT_LIMIT.labels(name).set(self.capacity)

    async def acquire(self, weight: float, *, priority: int = ROUTINE) -> None:
        """Charge ``weight``, waiting for room (raises `BudgetExhaustedError`, unsent)."""
        if not self._waiters and self._fits(weight):
            self._charge(weight)
            return
        wait = self.blocked_until - self._clock()
        if wait > self._max_wait_s:
            EXCHANGE_REFUSALS.labels(self.name, "budget").inc()
            raise BudgetExhaustedError(f"{self.name}: calls paused for {wait:.0f} s more")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._seq), weight, future))
        started = time.monotonic()
        try:
            async with asyncio.timeout(self._max_wait_s):
                self._pump()
                await future
        except TimeoutError:
            EXCHANGE_REFUSALS.labels(self.name, "budget").inc()
            raise BudgetExhaustedError(
                f"{self.name}: no request weight free within {self._max_wait_s:.0f} s"
            ) from None
        finally:
            future.cancel()
            EXCHANGE_WEIGHT_WAIT_SECONDS.labels(self.name).observe(time.monotonic() - started)

    def report(self, used: float) -> None:
        """Take the venue's count of the address's weight in this interval into account."""
        self._roll()
        self.reported = max(self.reported, used)
        # What the other replicas may use is theirs; anything beyond is counted as ours.
        self.used = max(self.used, used - self._others)
        EXCHANGE_WEIGHT_USED.labels(self.name).set(self.reported)

    def hold_off(self, seconds: float, *, banned: bool) -> None:
        """Send nothing for ``seconds`` (a 429's ``Retry-After``, or a 418 ban's)."""
        self.blocked_until = max(self.blocked_until, self._clock() + seconds)
        EXCHANGE_REFUSALS.labels(self.name, "banned" if banned else "rate_limited").inc()

    def _roll(self) -> None:
        window = math.floor(self._clock() / self.interval_s)
        if window != self._window:
            self._window, self.used, self.reported = window, 0.0, 0.0

    def _fits(self, weight: float) -> bool:
        if self._clock() < self.blocked_until:
            return False
        self._roll()
        if self.capacity is None or self._address_cap is None:
            return True
        if self.reported >= self._address_cap:
            return False
        # A request heavier than the whole share still goes, alone in its interval.
        return self.used + weight <= self.capacity or self.used == 0

    def _charge(self, weight: float) -> None:
        self.used += weight
        EXCHANGE_WEIGHT_USED.labels(self.name).set(max(self.used, self.reported))

    def _pump(self) -> None:
        """Grant queued requests in priority order while they fit; else wake up later."""
        while self._waiters:
            _, _, weight, future = self._waiters[0]
            if future.done():
                heapq.heappop(self._waiters)
            elif self._fits(weight):
                heapq.heappop(self._waiters)
                self._charge(weight)
                future.set_result(None)
            else:
                self._wake_later()
                return

    def _wake_later(self) -> None:
        now = self._clock()
        next_window = (math.floor(now / self.interval_s) + 1) * self.interval_s
        delay = (self.blocked_until if now < self.blocked_until else next_window) - now
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(max(delay, 0.001), self._pump)


class Budgets:
    """The process's budgets, one per (venue, mode): live, testnet and paper are different
    addresses with limits of their own.
    """

    def __init__(
        self,
        settings: BudgetSettings,
        overrides: dict[str, tuple[float | None, float]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._overrides = overrides or {}
        self._clock = clock
        self._budgets: dict[str, WeightBudget] = {}

    def of(self, name: str, limit: float | None, interval_s: float) -> WeightBudget:
        """Return the budget called ``name`` (limit and interval as overridden, if they are)."""
        budget = self._budgets.get(name)
        if budget is None:
            limit, interval_s = self._overrides.get(name, (limit, interval_s))
            budget = WeightBudget(name, limit, interval_s, self.settings, self._clock)
            self._budgets[name] = budget
        return budget
