"""Put a ccxt client's requests on a shared `WeightBudget`, and its answers' counts into it.

Two hooks of ccxt's request path, set on the client instance: ``fetch2`` (where ccxt knows a
request's ``cost`` from its ``api`` table and would throttle the client alone) charges the
budget first, and ``on_rest_response`` (which sees every answer's status and headers before
ccxt raises for it) reports the venue's usage header, a 429's ``Retry-After`` and a 418's ban.
Where the venue limits only by address, ccxt's per-client limiter is switched off: the budget
replaces it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import ccxt.async_support as ccxt

from services.executor.adapters.budget import ROUTINE, URGENT, WeightBudget
from services.executor.adapters.venues import WeightRule

DEFAULT_RETRY_AFTER_S = 1.0
_PRIORITY: ContextVar[int] = ContextVar("sparky_exchange_priority", default=URGENT)


@contextlib.contextmanager
def routine() -> Iterator[None]:
    """Let the requests made inside the block (status polls) wait behind orders' requests."""
    token = _PRIORITY.set(ROUTINE)
    try:
        yield
    finally:
        _PRIORITY.reset(token)


def interval_tag(interval_s: float) -> str:
    """Return Binance's name of an interval (``1M``, ``2S``, ``1H``, ``1D``)."""
    seconds = round(interval_s)
    for unit, size in (("D", 86_400), ("H", 3_600), ("M", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}S"


def _is_private(api: Any) -> bool:
    name = api if isinstance(api, str) else (api[0] if api else "")
    return "private" in str(name)


def observe(
    budget: WeightBudget, rule: WeightRule, status: int, headers: Mapping[str, str]
) -> None:
    """Feed one answer's usage count and refusal into the budget."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if rule.used_header is not None:
        used = lowered.get(rule.used_header + interval_tag(budget.interval_s).lower())
        if used is not None and used.strip().isdigit():
            budget.report(float(used))
    if status in (418, 429):
        try:
            retry_after = float(lowered.get("retry-after", DEFAULT_RETRY_AFTER_S))
        except ValueError:
            retry_after = DEFAULT_RETRY_AFTER_S
        budget.hold_off(retry_after, banned=status == 418)


def meter(client: ccxt.Exchange, rule: WeightRule, budget: WeightBudget) -> None:
    """Make every request of ``client`` charge ``budget`` and every answer report to it."""
    if not rule.keep_client_limiter:
        client.enableRateLimit = False
    send, answered = client.fetch2, client.on_rest_response

    async def fetch2(
        path: str, api: Any = "public", method: str = "GET", params: Any = None, config: Any = None
    ) -> Any:
        params, config = params or {}, config or {}
        if not (rule.public_only and _is_private(api)):
            cost = client.calculate_rate_limiter_cost(api, method, path, params, config)
            await budget.acquire(float(cost) * rule.per_cost, priority=_PRIORITY.get())
        return await send(path, api, method, params, config)

    def on_rest_response(*answer: Any) -> Any:
        # (code, reason, url, method, headers, body, request headers, request body)
        observe(budget, rule, int(answer[0]), answer[4] or {})
        return answered(*answer)

    client.fetch2 = fetch2
    client.on_rest_response = on_rest_response
