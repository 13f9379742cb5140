"""Futures entries with exits and leverage, and cancels, on the real NATS, Redis and Postgres."""

from __future__ import annotations

from decimal import Decimal

from libs.common.messages import (
    Action,
    CancelOrders,
    MarginMode,
    PlaceOrder,
    PriceTarget,
    PriceUnit,
    RejectReason,
    Side,
)
from libs.common.publishing import KEY_HEADER
from libs.common.records import TenantStatus
from tests import factories
from tests.helpers.router import Bus, futures, instrument, intent
from tests.integration.router.harness import API_KEY, ApiOpener, Starter

TENANT = "tenant-a"
PERP = instrument("BINANCE:BTCUSDT.P")
SL = PriceTarget(value=Decimal(1), unit=PriceUnit.PERCENT)


async def _futures_tenant(bus: Bus, **limits: object) -> None:
    plan = factories.plan_limits(max_alerts_per_hour=None, **limits)
    await bus.put_tenant(factories.tenant_record(TENANT, limits=plan))
    await bus.put_api_key(API_KEY, factories.api_key_record(TENANT))
    await bus.put_account(futures(TENANT))


async def test_a_futures_entry_carries_its_exits_leverage_and_margin_mode(
    open_api: ApiOpener, bus: Bus
) -> None:
    await _futures_tenant(bus, max_leverage=10)
    api = await open_api()
    put = await api.client.put(
        "/api/v1/settings/tenant",
        json={"margin_mode": "isolated", "take_profit_percent": 2, "max_leverage": 20},
    )
    assert put.status_code == 200, put.text
    await bus.publish(intent(TENANT, instrument=PERP, leverage=Decimal(5), stop_loss=SL))
    await bus.publish(intent(TENANT, instrument=PERP, leverage=Decimal(15)))  # above the plan's

    (order,) = await bus.orders(1)
    assert (order.symbol, order.side, order.reduce_only) == ("BTC/USDT:USDT", Side.BUY, False)
    assert (order.leverage, order.margin_mode) == (Decimal(5), MarginMode.ISOLATED)
    assert order.take_profit == PriceTarget(value=Decimal(2), unit=PriceUnit.PERCENT)
    assert order.stop_loss == SL
    (refused,) = await bus.rejections(1)
    assert refused.reason is RejectReason.LEVERAGE_NOT_ALLOWED
    assert "cap of 10x set by your plan (free)" in refused.message


async def test_a_cancel_alert_publishes_one_cancel_even_when_redelivered(
    start_router: Starter, bus: Bus
) -> None:
    await _futures_tenant(bus)
    router = await start_router(consume=False)
    assert router.handler is not None
    sent = intent(TENANT, instrument=PERP, action=Action.CANCEL, client_order_id="sp" + "0" * 27)

    await router.handler.route(sent)
    await router.handler.route(sent)  # delivered again: the kept cancel, the same message

    (command,) = await bus.commands(1)
    assert isinstance(command, CancelOrders)
    assert (command.intent_id, command.account_label) == (sent.intent_id, "main")
    assert (command.symbol, command.client_order_id) == ("BTC/USDT:USDT", "sp" + "0" * 27)
    sub = await bus.js.pull_subscribe(
        f"{bus.topology.namespace}.orders.*.{TENANT}", stream=bus.topology.orders_stream
    )
    (stored,) = await sub.fetch(1, timeout=5)
    headers = stored.headers or {}
    assert headers[KEY_HEADER] == "main/BTC/USDT:USDT"
    assert headers["Nats-Msg-Id"] == f"{sent.intent_id}:cancel"
    assert await bus.rejections(0, timeout_s=0.5) == []


async def test_a_suspended_tenant_can_still_cancel_but_not_order(
    start_router: Starter, bus: Bus
) -> None:
    await _futures_tenant(bus)
    await bus.put_tenant(factories.tenant_record(TENANT, status=TenantStatus.SUSPENDED))
    await start_router()
    await bus.publish(intent(TENANT, instrument=PERP))
    await bus.publish(intent(TENANT, instrument=PERP, action=Action.CANCEL))

    (rejected,) = await bus.rejections(1)
    assert rejected.reason is RejectReason.TENANT_INACTIVE
    (command,) = await bus.commands(1)
    assert isinstance(command, CancelOrders)
    assert not isinstance(command, PlaceOrder)
    assert command.client_order_id is None  # every open order of the symbol
