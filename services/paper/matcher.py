"""The background matcher: fills resting limit orders when the price crosses them."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from services.paper.exchange import PaperExchange

_log = logging.getLogger(__name__)


async def run_matcher(exchange: PaperExchange, interval_s: float) -> None:
    """Check resting orders every ``interval_s`` until cancelled.

    A failed round (the state file busy past its timeout) is logged and retried next round:
    the orders are still resting, so nothing is lost by waiting.
    """
    while True:
        await asyncio.sleep(interval_s)
        try:
            filled = await exchange.match()
        except (sqlite3.Error, OSError):
            _log.exception("matching resting orders failed; retrying next round")
            continue
        if filled:
            _log.info("resting orders filled", extra={"filled": filled})
