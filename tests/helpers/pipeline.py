"""Drive a running stack the way traders and operators do: only through its HTTP APIs.

`provision` makes a trader end to end (billing tenant with webhook and API key, a paper
exchange account with balances, that account added to the executor with its keys) and waits
until ingress and the router can see it. The read helpers look at what each service says:
the paper exchange's own order book (signed like ccxt would, with the trader's keys), the
ledger's positions and trails, billing's usage.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx

from scripts.devstack import StackConfig
from tests.helpers.polling import eventually

DEFAULT_LIMITS: Mapping[str, int | None] = {
    "max_alerts_per_hour": None,
    "max_orders_per_day": None,
    "max_webhooks": None,
    "max_exchange_accounts": None,
}
DEFAULT_BALANCES: Mapping[str, str] = {"USDT": "1000000", "BTC": "10", "ETH": "100"}


@dataclass(frozen=True)
class Trader:
    """A tenant made through the APIs, with everything it was shown once."""

    name: str
    tenant_id: str
    api_key: str
    webhook_url: str
    webhook_token: str
    paper_account_id: int
    paper_api_key: str
    paper_secret: str
    account_label: str = "main"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def _ok(resp: httpx.Response) -> Any:
    if resp.is_error:
        raise AssertionError(
            f"{resp.request.method} {resp.request.url.path}: {resp.status_code} {resp.text}"
        )
    return resp.json() if resp.content else None


async def provision(
    client: httpx.AsyncClient,
    cfg: StackConfig,
    name: str,
    *,
    plan: str = "pro",
    limits: Mapping[str, int | None] = DEFAULT_LIMITS,
    balances: Mapping[str, str] = DEFAULT_BALANCES,
    label: str = "main",
) -> Trader:
    """Create a trader through billing, the paper exchange and the executor; wait until usable."""
    operator = {"Authorization": f"Bearer {cfg.operator_token}"}
    created = _ok(
        await client.post(
            f"{cfg.url('billing')}/api/v1/tenants",
            json={"name": name, "plan": plan},
            headers=operator,
        )
    )
    tenant_id = created["tenant"]["tenant_id"]
    if limits:
        _ok(
            await client.put(
                f"{cfg.url('billing')}/api/v1/tenants/{tenant_id}/plan",
                json={"plan": plan, "overrides": dict(limits)},
                headers=operator,
            )
        )
    return await equip(client, cfg, name, created, balances=balances, label=label)


async def equip(
    client: httpx.AsyncClient,
    cfg: StackConfig,
    name: str,
    created: Mapping[str, Any],
    *,
    balances: Mapping[str, str] = DEFAULT_BALANCES,
    label: str = "main",
) -> Trader:
    """Give a tenant billing just created a paper account, at the exchange and the executor.

    ``created`` is billing's answer to the creation (the API's, or ``sparkyctl --json tenant
    create``'s, which is the same document); returns once ingress knows the webhook.
    """
    paper = _ok(
        await client.post(
            f"{cfg.url('paper')}/admin/accounts",
            json={"label": name, "balances": dict(balances)},
            headers={"Authorization": f"Bearer {cfg.paper_admin_token}"},
        )
    )
    trader = Trader(
        name=name,
        tenant_id=created["tenant"]["tenant_id"],
        api_key=created["api_key"]["key"],
        webhook_url=created["webhook"]["url"],
        webhook_token=created["webhook"]["token"],
        paper_account_id=paper["account_id"],
        paper_api_key=paper["api_key"],
        paper_secret=paper["secret"],
        account_label=label,
    )
    await eventually(
        lambda: _api_key_works(client, cfg, trader),
        what=f"{name}'s API key at the accounts API",
        timeout_s=10,
    )
    _ok(
        await client.post(
            f"{cfg.url('accounts')}/api/v1/exchange-accounts",
            json={
                "label": label,
                "exchange_id": "binance",
                "mode": "paper",
                "api_key": trader.paper_api_key,
                "secret": trader.paper_secret,
            },
            headers=trader.auth,
        )
    )
    await eventually(
        lambda: _token_known(client, trader), what=f"{name}'s webhook at ingress", timeout_s=10
    )
    return trader


async def _api_key_works(client: httpx.AsyncClient, cfg: StackConfig, trader: Trader) -> bool:
    resp = await client.get(f"{cfg.url('accounts')}/api/v1/exchange-accounts", headers=trader.auth)
    return resp.status_code == 200


async def _token_known(client: httpx.AsyncClient, trader: Trader) -> bool:
    # An empty JSON object is refused as a bad alert (400) only once the token is known (401
    # before): authentication comes first and nothing is stored.
    resp = await client.post(trader.webhook_url, content=b"{}")
    return resp.status_code == 400


async def send(
    client: httpx.AsyncClient, trader: Trader, body: str | Mapping[str, Any]
) -> httpx.Response:
    """Send one alert the way TradingView does: the message text as the raw body."""
    if isinstance(body, str):
        return await client.post(
            trader.webhook_url, content=body.encode(), headers={"Content-Type": "text/plain"}
        )
    return await client.post(trader.webhook_url, json=dict(body))


def _signed(trader: Trader, params: Mapping[str, str]) -> str:
    query = urlencode({**params, "timestamp": str(int(time.time() * 1000)), "recvWindow": "60000"})
    signature = hmac.new(trader.paper_secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{query}&signature={signature}"


async def exchange_orders(
    client: httpx.AsyncClient, cfg: StackConfig, trader: Trader, symbol: str
) -> list[dict[str, Any]]:
    """Every order the paper exchange holds for the trader's account on ``symbol``."""
    query = _signed(trader, {"symbol": symbol, "limit": "1000"})
    resp = await client.get(
        f"{cfg.url('paper')}/api/v3/allOrders?{query}",
        headers={"X-MBX-APIKEY": trader.paper_api_key},
    )
    orders: list[dict[str, Any]] = _ok(resp)
    return orders


async def exchange_fills(
    client: httpx.AsyncClient, cfg: StackConfig, trader: Trader, symbol: str
) -> list[dict[str, Any]]:
    """Every trade (fill) of the trader's account on ``symbol`` at the paper exchange."""
    query = _signed(trader, {"symbol": symbol, "limit": "1000"})
    resp = await client.get(
        f"{cfg.url('paper')}/api/v3/myTrades?{query}",
        headers={"X-MBX-APIKEY": trader.paper_api_key},
    )
    fills: list[dict[str, Any]] = _ok(resp)
    return fills


def net_base(orders: Sequence[Mapping[str, Any]]) -> Decimal:
    """The base quantity the filled orders add up to (buys positive, sells negative)."""
    total = Decimal(0)
    for order in orders:
        executed = Decimal(order["executedQty"])
        total += executed if order["side"] == "BUY" else -executed
    return total


async def positions(
    client: httpx.AsyncClient, cfg: StackConfig, trader: Trader
) -> list[dict[str, Any]]:
    """The ledger's positions of the trader."""
    body = _ok(await client.get(f"{cfg.url('ledger')}/api/v1/positions", headers=trader.auth))
    found: list[dict[str, Any]] = body["positions"]
    return found


async def position_quantity(
    client: httpx.AsyncClient, cfg: StackConfig, trader: Trader, symbol: str
) -> Decimal:
    """The ledger's net quantity of ``symbol`` (ccxt's unified form, ``BTC/USDT``; 0 when none)."""
    for row in await positions(client, cfg, trader):
        if row["symbol"] == symbol:
            return Decimal(row["quantity"])
    return Decimal(0)


def net_fills(fills: Sequence[Mapping[str, Any]], base: str = "BTC") -> Decimal:
    """The coins of ``base`` the paper exchange's fills (``myTrades``) leave in the wallet: buys
    positive, sells negative, less the commissions charged in ``base`` (a buy's, at Binance).
    """
    total = Decimal(0)
    for fill in fills:
        total += Decimal(fill["qty"]) if fill["isBuyer"] else -Decimal(fill["qty"])
        if fill.get("commissionAsset") == base:
            total -= Decimal(fill["commission"])
    return total


async def trades(
    client: httpx.AsyncClient, cfg: StackConfig, trader: Trader
) -> list[dict[str, Any]]:
    """Every trade the ledger shows the trader, newest first (all pages)."""
    found: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "1000"}
    while True:
        page = _ok(
            await client.get(
                f"{cfg.url('ledger')}/api/v1/trades", params=params, headers=trader.auth
            )
        )
        found.extend(page["trades"])
        if not page["next_cursor"]:
            return found
        params["cursor"] = page["next_cursor"]


async def trail(
    client: httpx.AsyncClient, cfg: StackConfig, trader: Trader, intent_id: str
) -> dict[str, Any] | None:
    """The ledger's trail of one alert (intent and orders), or None while it has none."""
    resp = await client.get(f"{cfg.url('ledger')}/api/v1/orders/{intent_id}", headers=trader.auth)
    if resp.status_code == 404:
        return None
    found: dict[str, Any] = _ok(resp)
    return found


async def daily_pnl(
    client: httpx.AsyncClient, cfg: StackConfig, trader: Trader
) -> list[dict[str, Any]]:
    """The ledger's PnL rows of the trader (per UTC day, account and currency)."""
    body = _ok(await client.get(f"{cfg.url('ledger')}/api/v1/pnl", headers=trader.auth))
    days: list[dict[str, Any]] = body["days"]
    return days


async def usage(client: httpx.AsyncClient, cfg: StackConfig, trader: Trader) -> dict[str, Any]:
    """Billing's usage counters of the trader, added up over the months it reports."""
    rows = _ok(
        await client.get(
            f"{cfg.url('billing')}/api/v1/usage", params={"period": "month"}, headers=trader.auth
        )
    )
    total: dict[str, Any] = {"alerts_rejected_by_reason": {}}
    for row in rows:
        for name, value in row.items():
            if isinstance(value, int):
                total[name] = total.get(name, 0) + value
        for reason, count in row["alerts_rejected_by_reason"].items():
            by_reason = total["alerts_rejected_by_reason"]
            by_reason[reason] = by_reason.get(reason, 0) + count
    return total


async def put_settings(
    client: httpx.AsyncClient,
    cfg: StackConfig,
    trader: Trader,
    layer: Mapping[str, Any],
    scope: str = "tenant",
) -> dict[str, Any]:
    """Replace one layer of the trader's trade settings at the router (``scope``: its path)."""
    resp = await client.put(
        f"{cfg.url('router')}/api/v1/settings/{scope}", json=dict(layer), headers=trader.auth
    )
    change: dict[str, Any] = _ok(resp)
    return change


async def pin_prices(
    client: httpx.AsyncClient, cfg: StackConfig, prices: Mapping[str, str]
) -> None:
    """Hold the paper exchange's prices (``{"BTCUSDT": "60000"}``) until pinned otherwise."""
    _ok(
        await client.put(
            f"{cfg.url('paper')}/admin/prices",
            json={"prices": dict(prices)},
            headers={"Authorization": f"Bearer {cfg.paper_admin_token}"},
        )
    )


async def wallet(
    client: httpx.AsyncClient, cfg: StackConfig, trader: Trader, asset: str
) -> Decimal:
    """What the trader's paper account holds of ``asset``, free and locked."""
    view = _ok(
        await client.get(
            f"{cfg.url('paper')}/admin/accounts/{trader.paper_account_id}",
            headers={"Authorization": f"Bearer {cfg.paper_admin_token}"},
        )
    )
    return sum(
        (
            Decimal(b["free"]) + Decimal(b["locked"])
            for b in view["balances"]
            if b["asset"] == asset
        ),
        Decimal(0),
    )


async def add_fault(client: httpx.AsyncClient, cfg: StackConfig, **spec: object) -> None:
    """Inject a fault at the paper exchange (see services/paper/faults.py for the fields)."""
    _ok(
        await client.post(
            f"{cfg.url('paper')}/admin/faults",
            json=dict(spec),
            headers={"Authorization": f"Bearer {cfg.paper_admin_token}"},
        )
    )


async def clear_faults(client: httpx.AsyncClient, cfg: StackConfig) -> None:
    """Remove every fault injected at the paper exchange."""
    _ok(
        await client.delete(
            f"{cfg.url('paper')}/admin/faults",
            headers={"Authorization": f"Bearer {cfg.paper_admin_token}"},
        )
    )


@dataclass(frozen=True)
class FuturesAccount:
    """A trader's paper futures account, as the paper exchange knows it."""

    label: str
    paper_account_id: int


async def add_futures_account(
    client: httpx.AsyncClient,
    cfg: StackConfig,
    trader: Trader,
    *,
    label: str = "futures",
    wallet: str = "10000",
) -> FuturesAccount:
    """Open a paper account with a USDT futures wallet and add it to the executor as a
    futures account labelled ``label``."""
    paper = _ok(
        await client.post(
            f"{cfg.url('paper')}/admin/accounts",
            json={"label": f"{trader.name}-{label}", "balances": {}, "futures_wallet": wallet},
            headers={"Authorization": f"Bearer {cfg.paper_admin_token}"},
        )
    )
    added = _ok(
        await client.post(
            f"{cfg.url('accounts')}/api/v1/exchange-accounts",
            json={
                "label": label,
                "exchange_id": "binance",
                "mode": "paper",
                "market_type": "futures",
                "api_key": paper["api_key"],
                "secret": paper["secret"],
            },
            headers=trader.auth,
        )
    )
    assert added["status"] == "valid", added
    return FuturesAccount(label, paper["account_id"])


async def futures_view(
    client: httpx.AsyncClient, cfg: StackConfig, account: FuturesAccount
) -> dict[str, Any]:
    """The paper exchange's view of a futures account: wallet, positions."""
    view = _ok(
        await client.get(
            f"{cfg.url('paper')}/admin/accounts/{account.paper_account_id}",
            headers={"Authorization": f"Bearer {cfg.paper_admin_token}"},
        )
    )
    found: dict[str, Any] = view["futures"]
    return found
