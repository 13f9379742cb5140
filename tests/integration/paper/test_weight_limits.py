"""Binance's weight count on every answer, read by ccxt (unlimited by default)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers.paper import PaperExchangeProcess

BTC = "BTC/USDT"


async def test_every_answer_reports_the_addresss_weight_as_binance_does(exchange: Any) -> None:
    await exchange.fetch_balance()
    before = int(exchange.last_response_headers["x-mbx-used-weight-1m"])
    order = await exchange.create_order(BTC, "limit", "buy", 0.01, 50000)
    await exchange.fetch_order(order["id"], BTC)
    # A minute boundary may have passed: then the count started again.
    used = int(exchange.last_response_headers["x-mbx-used-weight-1m"])
    assert used == before + 1 + 4 or used <= 5


async def test_errors_carry_the_count_too_and_nothing_is_refused_by_default(
    paper: PaperExchangeProcess,
) -> None:
    async with httpx.AsyncClient(base_url=paper.base_url) as http:
        for _ in range(350):  # 7,000 weight: more than Binance's 6,000 a minute
            answer = await http.get("/api/v3/exchangeInfo")
            assert answer.status_code == 200
        refused = await http.get("/api/v3/order", params={"symbol": "BTCUSDT"})
    assert refused.status_code == 401
    assert int(refused.headers["x-mbx-used-weight-1m"]) >= 4
