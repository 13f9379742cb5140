"""Take-profit, stop-loss and spot leverage are refused in words, never silently dropped."""

from __future__ import annotations

from decimal import Decimal

from libs.common.messages import Action, PriceTarget, PriceUnit, RejectReason, Side
from services.router.settings_records import LayerKey
from tests import factories
from tests.helpers.router import Bus, account, intent, layer
from tests.integration.router.harness import API_KEY, ApiOpener, Starter

TENANT = "tenant-a"
TP = PriceTarget(value=Decimal(2), unit=PriceUnit.PERCENT)
SETTINGS = "/api/v1/settings/tenant"


async def _tenant(bus: Bus) -> None:
    await bus.put_tenant(factories.tenant_record(TENANT))
    await bus.put_api_key(API_KEY, factories.api_key_record(TENANT))
    await bus.put_account(account(TENANT))


async def test_exits_and_spot_leverage_in_an_alert_are_refused_and_nothing_is_placed(
    start_router: Starter, bus: Bus
) -> None:
    await _tenant(bus)
    await start_router()
    await bus.publish(intent(TENANT, take_profit=TP))
    (exits,) = await bus.rejections(1)
    assert exits.reason is RejectReason.UNSUPPORTED_ORDER
    assert exits.message == (
        "Take-profit and stop-loss orders are not supported yet; the order was not placed. "
        "Remove tp from the alert."
    )
    await bus.publish(intent(TENANT, leverage=Decimal(5)))
    leverage = (await bus.rejections(2))[1]
    assert leverage.reason is RejectReason.UNSUPPORTED_ORDER
    assert "needs a futures account" in leverage.message
    await bus.publish(intent(TENANT))  # the same alert without them is placed
    (order,) = await bus.orders(1)
    assert (order.take_profit, order.stop_loss, order.leverage) == (None, None, None)


async def test_the_api_refuses_exits_and_stored_ones_stay_readable_and_removable(
    open_api: ApiOpener, bus: Bus
) -> None:
    await _tenant(bus)
    api = await open_api()
    refused = await api.client.put(SETTINGS, json={"quantity": "0.02", "take_profit_percent": 2})
    assert refused.status_code == 422
    assert "take-profit and stop-loss orders are not supported yet" in refused.json()["error"]
    assert [e["field"] for e in refused.json()["errors"]] == ["take_profit_percent"]
    assert (await api.client.get(SETTINGS)).status_code == 404
    # A layer stored before the refusal existed: as it would be in an older database.
    older = layer(quantity="0.02", take_profit_percent=2, stop_loss_percent=1)
    await api.runtime.store.put(TENANT, LayerKey.tenant(), older, by="k", now=factories.T0)
    shown = await api.client.get(SETTINGS)
    assert shown.status_code == 200, shown.text
    assert shown.json()["settings"]["take_profit_percent"] == "2"
    await bus.publish(intent(TENANT, quantity=None))
    (rejected,) = await bus.rejections(1)
    assert rejected.reason is RejectReason.UNSUPPORTED_ORDER
    assert rejected.message.endswith(
        "Remove take_profit_percent and stop_loss_percent from your trade settings."
    )
    await bus.publish(intent(TENANT, action=Action.SELL))  # a close is never stopped
    (close,) = await bus.orders(1)
    assert (close.side, close.take_profit) == (Side.SELL, None)
    removed = await api.client.put(SETTINGS, json={"quantity": "0.02"})
    assert removed.status_code == 200, removed.text
    await bus.publish(intent(TENANT, quantity=None))
    entry = (await bus.orders(2))[1]
    assert (entry.side, entry.sizing.value, entry.take_profit) == (Side.BUY, Decimal("0.02"), None)
