"""Only a signed command moves the executor: whoever else can publish on ORDERS trades for no one.

Forgeries are published on a subject the executor consumes, as a compromised pod could; each is
refused before anything is read from it, dead-lettered with its reason, counted, and nothing
reaches the exchange. The router's signature places; the ledger's cancels, never places.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import httpx
from nats.js import JetStreamContext
from prometheus_client import REGISTRY
from pydantic import SecretStr

from libs.common.ids import new_intent_id
from libs.common.messages import AccountMode, CancelOrders, OrderCanceled, PlaceOrder
from libs.common.messages.events import OrderEvent
from libs.common.signing import SIGNATURE_HEADER, CommandSigner, Issuer
from libs.common.topology import Topology
from tests import factories
from tests.helpers.executor import (
    kinds,
    market_order,
    publish_order,
    stored_events,
    wait_for_events,
)
from tests.helpers.paper import PaperExchangeProcess
from tests.helpers.polling import eventually
from tests.helpers.signing import LEDGER_SIGNER, ROUTER_SIGNER
from tests.integration.executor.orders import exchange_orders, paper_tenant

T = "tenant-signed"
OTHER = "tenant-other"
REFUSED = "sparky_executor_refused_commands_total"


def refused(reason: str) -> float:
    return REGISTRY.get_sample_value(REFUSED, {"reason": reason}) or 0.0


async def dead_letters(
    js: JetStreamContext, topology: Topology, count: int
) -> list[dict[str, str]]:
    """Wait for ``count`` dead letters of ORDERS; return their headers, in order."""

    async def held() -> int:
        return (await js.stream_info(topology.deadletter_stream)).state.messages

    await eventually(held, until=lambda n: n >= count, what=f"{count} dead letters", timeout_s=20)
    found = []
    for seq in range(1, count + 1):
        dead = await js.get_msg(topology.deadletter_stream, seq)
        assert dead.subject == topology.deadletter_subject("orders")
        assert dead.headers is not None
        found.append(dead.headers)
    return found


def client_order_ids(events: Sequence[object]) -> set[str]:
    return {e.client_order_id for e in events if isinstance(e, OrderEvent)}


async def test_forged_orders_are_refused_dead_lettered_and_never_reach_the_exchange(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await paper_tenant(http, js, topology, paper, T)
    before = {r: refused(r) for r in ("missing", "bad_signature", "not_permitted")}
    impostor = CommandSigner(Issuer.ROUTER, SecretStr(secrets.token_hex(32)))
    unsigned, wrong_key, by_ledger = (market_order(T) for _ in range(3))

    await publish_order(js, topology, unsigned, signer=None)
    await publish_order(js, topology, wrong_key, signer=impostor)
    await publish_signed_for(js, topology, market_order(T), OTHER)  # tenant and subject agree
    await publish_signed_for(js, topology, market_order(OTHER), OTHER)  # copied from OTHER's
    await publish_order(js, topology, by_ledger, signer=LEDGER_SIGNER)
    genuine = market_order(T)
    await publish_order(js, topology, genuine)  # signed by the router: placed

    dead = await dead_letters(js, topology, 5)
    errors = [headers["Sparky-Error"] for headers in dead]
    assert "not signed" in errors[0]
    assert all("signature is not router's for its subject" in e for e in errors[1:4])
    assert "ledger may not sign a 'place' command" in errors[4]
    assert all(e.startswith("UntrustedCommandError") for e in errors)
    assert SIGNATURE_HEADER not in dead[0]
    assert dead[4][SIGNATURE_HEADER].startswith("ledger:")  # kept, so it stays refused
    assert refused("missing") - before["missing"] == 1
    assert refused("bad_signature") - before["bad_signature"] == 3
    assert refused("not_permitted") - before["not_permitted"] == 1

    # One key per tenant: the genuine order comes after the forgeries, so they are settled.
    events = await wait_for_events(js, topology, T, lambda es: "order.filled" in kinds(es))
    assert client_order_ids(events) == {genuine.client_order_id}
    placed = await exchange_orders(paper, account, "BTC/USDT")
    assert [o["clientOrderId"] for o in placed] == [genuine.client_order_id]
    assert await stored_events(js, topology, OTHER) == []


async def publish_signed_for(
    js: JetStreamContext, topology: Topology, command: PlaceOrder, tenant: str
) -> None:
    """Publish ``command`` on `T`'s subject with the router's genuine signature for
    ``tenant``'s subject."""
    payload = command.to_json()
    headers = {"Nats-Msg-Id": command.message_id}
    headers |= ROUTER_SIGNER.header(topology.order_subject(tenant), payload)
    await js.publish(
        topology.order_subject(T), payload, stream=topology.orders_stream, headers=headers
    )


async def test_the_ledger_may_cancel_an_order_the_router_placed(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, paper: PaperExchangeProcess
) -> None:
    account = await paper_tenant(http, js, topology, paper, T)
    resting: PlaceOrder = market_order(
        T,
        order_type="limit",
        limit_price="0.55",
        symbol="XRP/USDT",
        sizing={"rule": "base", "value": "50"},
    )
    await publish_order(js, topology, resting)
    await wait_for_events(js, topology, T, lambda es: "order.submitted" in kinds(es))
    intent = new_intent_id()
    cancel = CancelOrders(
        **factories.envelope(T, intent),
        intent_id=intent,
        account_label="main",
        exchange_id="binance",
        mode=AccountMode.PAPER,
        symbol="XRP/USDT",
        client_order_id=resting.client_order_id,
        received_at=factories.T0,
    )
    await publish_order(js, topology, cancel, signer=LEDGER_SIGNER)
    events = await wait_for_events(js, topology, T, lambda es: "order.canceled" in kinds(es))
    (canceled,) = [e for e in events if isinstance(e, OrderCanceled)]
    assert canceled.client_order_id == resting.client_order_id
    (on_exchange,) = await exchange_orders(paper, account, "XRP/USDT")
    assert on_exchange["status"] == "canceled"
