"""Futures, take-profit and stop-loss, and TradersPost's templates through the webhook, on the
real NATS and Redis: what is stored, and what is refused with a hint before anything is.
"""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
from nats.js import JetStreamContext

from libs.common.messages import (
    Action,
    ExitKind,
    OrderIntent,
    PriceTarget,
    PriceUnit,
    QuantityType,
)
from libs.common.topology import Topology
from tests.helpers.ingress import add_hook, stored, until_known


async def test_a_traderspost_template_pasted_unchanged_is_stored_as_the_alert_it_means(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)
    body = {
        "ticker": "BTCUSDT.P",
        "action": "buy",
        "sentiment": "bullish",
        "signalPrice": "60000.5",
        "quantityType": "dollar_amount",
        "quantity": 200,
        "takeProfit": {"limitPrice": 62000},
        "stopLoss": {"type": "trailing_stop", "trailPercent": 1},
        "interval": "15",
        "extras": {"strategy": "breakout"},
    }

    answer = await client.post(
        hook.path, content=json.dumps(body), headers={"content-type": "application/json"}
    )

    assert answer.status_code == 202, answer.text
    (message,) = await stored(js, topology.intents_stream)
    alert = OrderIntent.model_validate_json(message.data or b"").alert
    assert (alert.action, alert.quantity, alert.quantity_type) == (
        Action.BUY,
        Decimal(200),
        QuantityType.QUOTE,
    )
    assert (alert.instrument.symbol, alert.instrument.perpetual) == ("BTCUSDT", True)
    assert alert.signal_price == Decimal("60000.5")
    assert alert.take_profit == PriceTarget(value=Decimal(62000), unit=PriceUnit.PRICE)
    assert alert.stop_loss == PriceTarget(
        value=Decimal(1), unit=PriceUnit.PERCENT, kind=ExitKind.TRAILING
    )


async def test_a_text_cancel_of_one_order_is_stored_with_its_client_order_id(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)

    answer = await client.post(hook.path, content=b"cancel BINANCE:BTCUSDT.P id=sp01JABCDEFGHJ0")

    assert answer.status_code == 202, answer.text
    (message,) = await stored(js, topology.intents_stream)
    alert = OrderIntent.model_validate_json(message.data or b"").alert
    assert (alert.action, alert.client_order_id) == (Action.CANCEL, "sp01JABCDEFGHJ0")


async def test_a_misspelt_field_gets_400_with_a_did_you_mean_hint_and_nothing_is_stored(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)
    body = {
        "ticker": "BTCUSDT.P",
        "action": "buy",
        "stopLos": {"percent": 1},
        "takeProfit": {"percnt": 2},
    }

    answer = await client.post(hook.path, content=json.dumps(body))

    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        {
            "field": "stopLos",
            "message": "'stopLos' is not a field Sparky knows: did you mean 'stopLoss'?",
        }
    ]
    assert await stored(js, topology.intents_stream) == []


async def test_exits_on_the_wrong_side_of_a_limit_entry_get_400_naming_both(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)

    answer = await client.post(hook.path, content=b"BUY BTCUSDT.P entry 60000 tp 59000 sl 61000")

    assert answer.status_code == 400
    assert [problem["message"] for problem in answer.json()["errors"]] == [
        "take_profit 59000 must be above the limit price 60000 for a long.",
        "stop_loss 61000 must be below the limit price 60000 for a long.",
        "stop_loss 61000 must be below take_profit 59000 for a long.",
    ]
    assert await stored(js, topology.intents_stream) == []
