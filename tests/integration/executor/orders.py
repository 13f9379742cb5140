"""Shared steps of the executor's order tests (not a test module)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from nats.js import JetStreamContext

from libs.common.messages import Event
from libs.common.messages.events import OrderEvent
from libs.common.topology import Topology
from tests.helpers.executor import seed_tenant
from tests.helpers.paper import PaperAccount, PaperExchangeProcess


async def paper_tenant(
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    tenant_id: str,
    *,
    balances: dict[str, str] | None = None,
    label: str = "main",
    futures_wallet: str | None = None,
) -> PaperAccount:
    """Seed a tenant, open a paper account for it, and add it to the executor as ``label``
    (a futures account, with that USDT futures wallet, when ``futures_wallet`` is given)."""
    key = await seed_tenant(js, topology, tenant_id, api=http, max_exchange_accounts=None)
    if futures_wallet is None:
        account = await paper.create_account(balances or {"USDT": "10000"})
    else:
        account = await paper.create_account(balances or {}, futures_wallet=futures_wallet)
    body = {
        "label": label,
        "exchange_id": "binance",
        "mode": "paper",
        "market_type": "spot" if futures_wallet is None else "futures",
        "api_key": account.api_key,
        "secret": account.secret,
    }
    response = await http.post(
        "/api/v1/exchange-accounts", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "valid", response.text
    return account


async def exchange_orders(
    paper: PaperExchangeProcess, account: PaperAccount, symbol: str
) -> list[dict[str, Any]]:
    """Return every order the paper exchange holds for ``account`` in ``symbol``."""
    client = paper.client(account)
    try:
        orders: list[dict[str, Any]] = await client.fetch_orders(symbol)
    finally:
        await client.close()
    return orders


def order_ids(events: Sequence[Event], kind: str) -> list[str]:
    """Return the client order ids of the events of one kind, in order."""
    return [e.client_order_id for e in events if isinstance(e, OrderEvent) and e.kind == kind]
