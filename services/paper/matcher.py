"""The background matcher: fills resting limit orders when the price crosses them."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from services.paper.exchange import PaperExchange
from services.paper.futures.engine import FuturesExchange

_log = logging.getLogger(__name__)


async def run_matcher(exchange: PaperExchange, futures: FuturesExchange, interval_s: float) -> None:
    """Check resting orders, algo orders and liquidations every ``interval_s`` until cancelled.

    A failed round (the state file busy past its timeout) is logged and retried next round:
    the orders are still resting, so nothing is lost by waiting.
    """
    while True:
        await asyncio.sleep(interval_s)
        try:
            async with exchange.rounds:
                filled = await exchange.match() + await futures.tick()
        except (sqlite3.Error, OSError):
            _log.exception("matching resting orders failed; retrying next round")
            continue
        if filled:
            _log.info("resting orders filled", extra={"filled": filled})


async def run_funding(futures: FuturesExchange, interval_s: float) -> None:
    """Pay funding on open positions at each funding time, checked every ``interval_s``.

    The last funding time is kept in the state file, so a restart neither pays twice nor
    skips the payment of a funding time that passed while it was down.
    """
    while True:
        await asyncio.sleep(interval_s)
        try:
            if await futures.funding_due():
                paid = await futures.settle_funding()
                _log.info("funding paid", extra={"payments": paid})
        except (sqlite3.Error, OSError):
            _log.exception("paying funding failed; retrying next round")
