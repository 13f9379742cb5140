"""Event ids that repeat themselves, and ccxt's numbers read back exactly."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from libs.common.fsm import OrderState
from libs.common.ids import ULID_PATTERN, ClientOrderId, IntentId, TenantId
from libs.common.messages import AccountMode, Fill, OrderType, Side
from services.executor.adapters.parse import parse_order, parse_trade, to_decimal
from services.executor.domain import OrderRecord
from services.executor.orders.events import fills_key, stable_id

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def record(client_order_id: str = "sp01J0000000000000000000001") -> OrderRecord:
    return OrderRecord(
        client_order_id=ClientOrderId(client_order_id),
        tenant_id=TenantId("t"),
        partition=3,
        intent_id=IntentId("01J00000000000000000000000"),
        place_order_id="01J00000000000000000000001",
        account_label="main",
        exchange_id="binance",
        mode=AccountMode.PAPER,
        symbol="BTC/USDT",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        state=OrderState.PENDING,
        received_at=T0,
        created_at=T0,
        updated_at=T0,
    )


def fill(trade_id: str) -> Fill:
    return Fill(
        trade_id=trade_id, price=Decimal(1), amount=Decimal(1), fee=Decimal(0), filled_at=T0
    )


def test_an_event_published_again_carries_the_same_ulid() -> None:
    first = stable_id(record(), "x:submitted")
    assert first == stable_id(record(), "x:submitted")
    assert first != stable_id(record(), "x:filled")
    assert first != stable_id(record("sp-other"), "y:submitted")
    assert re.match(ULID_PATTERN, first)


def test_a_batch_of_fills_has_one_id_whatever_their_order() -> None:
    assert fills_key(record(), [fill("1"), fill("2")]) == fills_key(
        record(), [fill("2"), fill("1")]
    )
    assert fills_key(record(), [fill("1")]) != fills_key(record(), [fill("1"), fill("2")])


def test_ccxt_floats_come_back_as_the_exchanges_digits() -> None:
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal(60000.0) == Decimal(60000)
    assert to_decimal("12.345678901234567890") == Decimal("12.345678901234567890")
    assert to_decimal(None) is None
    assert to_decimal(float("nan")) is None


def test_a_trade_becomes_a_fill_with_its_fees_added_up() -> None:
    trade = {
        "id": 42,
        "price": 60000.1,
        "amount": 0.001,
        "timestamp": 1767323045000,
        "fees": [{"cost": 0.0000005, "currency": "BTC"}, {"cost": 0.0000005, "currency": "BTC"}],
    }
    parsed = parse_trade(trade)
    assert parsed is not None
    assert (parsed.trade_id, parsed.price, parsed.amount) == (
        "42",
        Decimal("60000.1"),
        Decimal("0.001"),
    )
    assert parsed.fee == Decimal("0.0000010")
    assert parsed.fee_currency == "BTC"
    assert parse_trade({"id": None, "price": 1, "amount": 1}) is None


def test_an_order_structure_is_read_with_its_trades() -> None:
    order = parse_order(
        {
            "id": "7",
            "clientOrderId": "sp1",
            "status": "closed",
            "side": "sell",
            "amount": 0.5,
            "filled": 0.5,
            "average": 100.5,
            "trades": [{"id": "t1", "price": 100.5, "amount": 0.5, "fee": None}],
        }
    )
    assert (order.order_id, order.status, order.side) == ("7", "closed", Side.SELL)
    assert order.filled == Decimal("0.5")
    assert order.price == Decimal("100.5")
    assert [f.trade_id for f in order.fills] == ["t1"]
