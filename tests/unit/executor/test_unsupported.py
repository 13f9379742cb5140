"""A `PlaceOrder` asking for what the account's venue cannot hold is refused, whole."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from libs.common.ids import TenantId
from libs.common.messages import AccountMode
from libs.common.records import MarketType
from services.executor.domain import TradingAccount
from services.executor.orders.unsupported import unsupported_reason
from tests.helpers.executor import market_order

PERCENT = {"value": "2", "unit": "percent"}
TRAIL = {"value": "1", "unit": "percent", "kind": "trailing"}


def account(market: MarketType, exchange: str = "binance") -> TradingAccount:
    return TradingAccount(
        TenantId("t"), "main", exchange, AccountMode.PAPER, market, datetime(2026, 1, 1, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("parts", "words"),
    [
        ({"stop_loss": TRAIL}, "A trailing stop-loss cannot be held on binance spot accounts"),
        ({"leverage": "3"}, "account 'main' trades spot"),
        ({"margin_mode": "cross"}, "account 'main' trades spot"),
    ],
)
def test_exits_leverage_and_margin_mode_are_refused_on_spot(
    parts: dict[str, Any], words: str
) -> None:
    reason = unsupported_reason(market_order("t", **parts), account(MarketType.SPOT))
    assert reason is not None
    assert words in reason
    assert "the order was not placed" in reason


def test_a_plain_order_1x_leverage_and_an_oco_are_placed_on_spot() -> None:
    spot = account(MarketType.SPOT)
    assert unsupported_reason(market_order("t"), spot) is None
    protected = market_order("t", take_profit=PERCENT, stop_loss=PERCENT)
    assert unsupported_reason(protected, spot) is None
    assert unsupported_reason(protected, account(MarketType.SPOT, "okx")) is not None
    assert unsupported_reason(market_order("t", leverage="1"), spot) is None


def test_futures_hold_every_kind_of_exit_on_binance_and_market_kinds_on_okx() -> None:
    command = market_order("t", stop_loss=TRAIL, take_profit=PERCENT, leverage="3")
    assert unsupported_reason(command, account(MarketType.FUTURES)) is None
    reason = unsupported_reason(command, account(MarketType.FUTURES, "okx"))
    assert reason is not None
    assert "trailing stop-loss cannot be held on okx futures accounts" in reason
