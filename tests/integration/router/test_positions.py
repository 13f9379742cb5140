"""The router's known positions, fed over real NATS into real Redis: each trade once, net of the
fee charged in the coin, less what the executor wrote off.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from nats.js import JetStreamContext

from libs.common.ids import ClientOrderId, new_id
from libs.common.messages import (
    AccountMode,
    Action,
    DriftSource,
    OrderFilled,
    OrderRole,
    PositionDrift,
    RejectReason,
    Side,
)
from libs.common.messages.base import Message
from libs.common.topology import Topology
from tests import factories
from tests.helpers.polling import eventually
from tests.helpers.router import Bus, account, intent
from tests.integration.router.harness import Starter

WHERE = ("main", "BTC/USDT")


def _order(intent_id: str) -> dict[str, Any]:
    return factories.envelope("tenant-a", intent_id) | {
        "intent_id": intent_id,
        "client_order_id": f"sp{intent_id}0",
        "account_label": "main",
        "exchange_id": "binance",
        "symbol": "BTC/USDT",
        "side": Side.BUY,
    }


async def test_each_trade_counts_once_net_of_its_coin_fee_and_write_offs_come_off(
    start_router: Starter, bus: Bus, js: JetStreamContext, topology: Topology
) -> None:
    await bus.put_tenant(factories.tenant_record("tenant-a"))
    router = await start_router()
    intent_id = new_id()
    first = factories.fill(trade_id="t-1", amount=Decimal("0.5"), fee=Decimal("0.0005"))
    first = first.model_copy(update={"fee_currency": "BTC"})
    second = factories.fill(trade_id="t-2", amount=Decimal("0.25"), fee=Decimal("0.1"))
    events: list[Message] = [
        OrderFilled(**_order(intent_id), exchange_order_id="1", fills=(first,), complete=False),
        # After a crash an executor may report t-1 again, with t-2, in an event of its own.
        OrderFilled(**_order(intent_id), exchange_order_id="1", fills=(first, second)),
        PositionDrift(
            **_order(intent_id),
            source=DriftSource.WALLET,
            expected=Decimal("0.7495"),
            actual=Decimal("0.6495"),
            written_off=Decimal("0.1"),
            message="sold by hand",
        ),
    ]
    for event in events:
        subject = topology.event_subject("tenant-a", event.kind)  # type: ignore[attr-defined]
        await js.publish(subject, event.to_json(), stream=topology.events_stream)

    async def held() -> Decimal | None:
        snapshot = await router.state.snapshot("tenant-a", "none", datetime.now(UTC))
        return snapshot.positions.get(WHERE)

    # 0.5 - 0.0005 (fee in BTC) + 0.25 (fee in BNB) - 0.1 written off
    await eventually(
        held, until=lambda v: v == Decimal("0.6495"), timeout_s=10, what="a position of 0.6495"
    )


async def test_a_tenant_downgraded_to_the_free_plan_closes_its_live_position(
    start_router: Starter, bus: Bus, js: JetStreamContext, topology: Topology
) -> None:
    free = factories.plan_limits(live_trading=False, max_alerts_per_hour=None)
    await bus.put_tenant(factories.tenant_record("tenant-a", plan="free", limits=free))
    await bus.put_account(account("tenant-a", mode=AccountMode.LIVE))
    await start_router()
    bought = OrderFilled(
        **_order(new_id()), exchange_order_id="1", fills=(factories.fill(amount=Decimal("0.1")),)
    )
    subject = topology.event_subject("tenant-a", bought.kind)
    await js.publish(subject, bought.to_json(), stream=topology.events_stream)
    opening, closing = intent("tenant-a"), intent("tenant-a", action=Action.CLOSE, quantity=None)
    for sent in (opening, closing):
        await bus.publish(sent)
    (refused,) = await bus.rejections(1)
    assert (refused.intent_id, refused.reason) == (
        opening.intent_id,
        RejectReason.LIVE_TRADING_NOT_ALLOWED,
    )
    (order,) = await bus.orders(1)
    assert (order.intent_id, order.side, order.mode) == (
        closing.intent_id,
        Side.SELL,
        AccountMode.LIVE,
    )


async def test_protective_fills_move_the_position_and_the_new_event_kinds_change_nothing(
    start_router: Starter, bus: Bus, js: JetStreamContext, topology: Topology
) -> None:
    await bus.put_tenant(factories.tenant_record("tenant-a"))
    router = await start_router()
    entry, perp = new_id(), {"symbol": "BTC/USDT:USDT"}
    short = OrderFilled(
        **(_order(entry) | perp | {"side": Side.SELL}),
        exchange_order_id="1",
        fills=(factories.fill(trade_id="e-1", amount=Decimal(1), fee_currency="USDT"),),
    )
    take_profit = OrderFilled(
        **(_order(entry) | perp | {"client_order_id": f"sp{entry}t"}),
        role=OrderRole.TAKE_PROFIT,
        parent_client_order_id=ClientOrderId(f"sp{entry}0"),
        exchange_order_id="2",
        fills=(factories.fill(trade_id="tp-1", amount=Decimal("0.4"), fee_currency="USDT"),),
    )
    events: list[Message] = [*factories.every_event("tenant-b"), short, take_profit]
    for event in events:
        subject = topology.event_subject(event.tenant_id, event.kind)  # type: ignore[attr-defined]
        await js.publish(subject, event.to_json(), stream=topology.events_stream)

    async def held() -> Decimal | None:
        snapshot = await router.state.snapshot("tenant-a", "none", datetime.now(UTC))
        return snapshot.positions.get(("main", "BTC/USDT:USDT"))

    # Short 1, then the take-profit bought 0.4 back.
    await eventually(
        held, until=lambda v: v == Decimal("-0.6"), timeout_s=10, what="a position of -0.6"
    )
    dead = await js.stream_info(topology.deadletter_stream)
    assert dead.state.messages == 0  # every event read; none set aside as unreadable
