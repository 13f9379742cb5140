"""Binance's request-weight limit on the Binance routes, counted per client address.

Binance charges each request a weight (an order 1, a query 4, the account 20, ...) to the
caller's IP in fixed windows aligned on the clock, reports the window's total on every answer
(``X-MBX-USED-WEIGHT-1M``), refuses what goes beyond the limit with 429, ``Retry-After`` and
-1003, and bans an address that keeps calling while told to wait: 418 until the ban ends.
Unlimited by default (``weight_limit`` unset): the count and its header are still kept, so a
client's reading of them is exercised by every test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.paper import errors
from services.paper.metrics import WEIGHT_REFUSALS

PREFIXES = ("/api/v3/", "/fapi/")
# (method, path) -> (weight, weight without a symbol); Binance's spot weights.
WEIGHTS: dict[tuple[str, str], tuple[int, int]] = {
    ("GET", "/api/v3/ping"): (1, 1),
    ("GET", "/api/v3/time"): (1, 1),
    ("GET", "/api/v3/exchangeInfo"): (20, 20),
    ("GET", "/api/v3/ticker/price"): (2, 4),
    ("GET", "/api/v3/ticker/24hr"): (2, 80),
    ("POST", "/api/v3/order"): (1, 1),
    ("GET", "/api/v3/order"): (4, 4),
    ("DELETE", "/api/v3/order"): (1, 1),
    ("GET", "/api/v3/openOrders"): (6, 80),
    ("GET", "/api/v3/allOrders"): (20, 20),
    ("GET", "/api/v3/account"): (20, 20),
    ("GET", "/api/v3/myTrades"): (20, 20),
    ("POST", "/api/v3/orderList/oco"): (1, 1),
    ("GET", "/api/v3/orderList"): (4, 4),
    ("DELETE", "/api/v3/orderList"): (1, 1),
    ("GET", "/api/v3/openOrderList"): (6, 6),
    # USDⓈ-M futures (Binance's futures weights; its limit is 2400 a minute)
    ("GET", "/fapi/v1/exchangeInfo"): (1, 1),
    ("GET", "/fapi/v1/premiumIndex"): (1, 10),
    ("GET", "/fapi/v1/ticker/24hr"): (1, 40),
    ("GET", "/fapi/v1/ticker/price"): (1, 2),
    ("GET", "/fapi/v1/order"): (1, 1),
    ("GET", "/fapi/v1/openOrders"): (1, 40),
    ("GET", "/fapi/v1/openAlgoOrders"): (1, 40),
    ("GET", "/fapi/v1/userTrades"): (5, 5),
    ("GET", "/fapi/v1/income"): (30, 30),
    ("GET", "/fapi/v1/leverageBracket"): (1, 1),
    ("GET", "/fapi/v1/positionSide/dual"): (30, 30),
    ("GET", "/fapi/v2/account"): (5, 5),
    ("GET", "/fapi/v3/account"): (5, 5),
    ("GET", "/fapi/v2/balance"): (5, 5),
    ("GET", "/fapi/v3/balance"): (5, 5),
    ("GET", "/fapi/v2/positionRisk"): (5, 5),
    ("GET", "/fapi/v3/positionRisk"): (5, 5),
}


def weight_of(method: str, path: str, query: bytes) -> int:
    """Return a request's weight (1 for what Binance does not list here)."""
    with_symbol, without = WEIGHTS.get((method, path), (1, 1))
    return with_symbol if b"symbol=" in query else without


def interval_tag(interval_s: int) -> str:
    """Return Binance's name of an interval (``1M``, ``10S``)."""
    for unit, size in (("D", 86_400), ("H", 3_600), ("M", 60)):
        if interval_s % size == 0:
            return f"{interval_s // size}{unit}"
    return f"{interval_s}S"


@dataclass(slots=True)
class _Address:
    window: int = -1
    used: int = 0
    wait_until: float = 0.0
    strikes: int = 0
    banned_until: float = 0.0


@dataclass(frozen=True, slots=True)
class WeightLimits:
    """The limit per address and interval, and how patient the exchange is after a 429."""

    limit: int | None = None
    interval_s: int = 60
    ban_s: int = 120
    strikes: int = 3
    """Requests an address may still send while told to wait before it is banned."""


class WeightCounter:
    """Each client address's weight in the current window, its 429s and its ban."""

    def __init__(self, limits: WeightLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.header = f"x-mbx-used-weight-{interval_tag(limits.interval_s).lower()}".encode()
        self._clock = clock
        self._addresses: dict[str, _Address] = {}

    def charge(self, address: str, weight: int) -> tuple[int, errors.BinanceError | None]:
        """Charge ``weight`` to ``address``; return its window's use and the refusal, if any."""
        now, limits = self._clock(), self.limits
        state = self._addresses.setdefault(address, _Address())
        window = math.floor(now / limits.interval_s)
        if window != state.window:
            state.window, state.used = window, 0
        if now < state.banned_until:
            return state.used, errors.banned(state.banned_until, now)
        if now < state.wait_until:
            state.strikes += 1
            if state.strikes > limits.strikes:
                state.banned_until = now + limits.ban_s
                return state.used, errors.banned(state.banned_until, now)
            return state.used, errors.rate_limited(limits.limit, state.wait_until - now)
        if limits.limit is not None and state.used + weight > limits.limit:
            state.wait_until, state.strikes = (window + 1) * limits.interval_s, 0
            return state.used, errors.rate_limited(limits.limit, state.wait_until - now)
        state.used += weight
        return state.used, None


class WeightLimitMiddleware:
    """Count, report and enforce the request weight of the Binance routes."""

    def __init__(self, app: ASGIApp, counter: WeightCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIXES):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        weight = weight_of(scope["method"], scope["path"], scope["query_string"])
        used, refusal = self.counter.charge(client[0] if client else "", weight)
        header = (self.counter.header, str(used).encode())
        if refusal is not None:
            WEIGHT_REFUSALS.labels(str(refusal.status)).inc()
            response = JSONResponse(
                refusal.body(),
                status_code=refusal.status,
                headers={"Retry-After": str(refusal.retry_after_s)},
            )
            response.raw_headers.append(header)
            await response(scope, receive, send)
            return

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_counted)
