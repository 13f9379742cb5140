"""A `PlaceOrder` asking for what the executor cannot place yet is refused, whole."""

from __future__ import annotations

from typing import Any

import pytest

from libs.common.records import MarketType
from services.executor.unsupported import unsupported_reason
from tests.helpers.executor import market_order

PERCENT = {"value": "2", "unit": "percent"}


@pytest.mark.parametrize(
    ("parts", "words"),
    [
        ({"take_profit": PERCENT}, "Take-profit and stop-loss orders are not supported yet"),
        ({"stop_loss": PERCENT}, "Take-profit and stop-loss orders are not supported yet"),
        ({"leverage": "3"}, "account 'main' trades spot"),
        ({"margin_mode": "cross"}, "account 'main' trades spot"),
    ],
)
def test_exits_leverage_and_margin_mode_are_refused_on_spot(
    parts: dict[str, Any], words: str
) -> None:
    reason = unsupported_reason(market_order("t", **parts), MarketType.SPOT)
    assert reason is not None
    assert words in reason
    assert "the order was not placed" in reason


def test_a_plain_order_and_1x_leverage_are_placed() -> None:
    assert unsupported_reason(market_order("t"), MarketType.SPOT) is None
    assert unsupported_reason(market_order("t", leverage="1"), MarketType.SPOT) is None


def test_exits_are_refused_on_any_market() -> None:
    command = market_order("t", stop_loss=PERCENT, leverage="3")
    assert unsupported_reason(command, MarketType.FUTURES) is not None
    assert unsupported_reason(market_order("t", leverage="3"), MarketType.FUTURES) is None
