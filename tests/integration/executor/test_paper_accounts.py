"""Tenants open paper accounts themselves: the accounts process opens them on the paper
exchange, keeps their keys in Vault like any account's, and validates them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async
import httpx
import hvac
import pytest
from asgi_lifespan import LifespanManager
from nats.js import JetStreamContext
from pydantic import SecretStr

from libs.common.topology import Topology
from services.executor.app import create_app
from services.executor.config import ExecutorRole, ExecutorSettings
from tests.helpers.executor import VAULT_PREFIX, seed_tenant
from tests.helpers.paper import PaperExchangeProcess, ccxt_config, futures_ccxt_config
from tests.helpers.ports import free_port
from tests.helpers.vault import VaultServer

T = "tenant-paper"
PAPER = "/api/v1/exchange-accounts/paper"


@pytest.fixture
def settings(settings: ExecutorSettings, paper: PaperExchangeProcess) -> ExecutorSettings:
    """The accounts process, with the paper exchange's admin token."""
    token = SecretStr(paper.admin_token)
    update: dict[str, Any] = {"role": ExecutorRole.ACCOUNTS, "paper_admin_token": token}
    return settings.model_copy(update=update)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _stored_keys(vault: VaultServer, topology: Topology, label: str) -> dict[str, str]:
    root = hvac.Client(url=vault.url, token=vault.root_token)
    path = f"{VAULT_PREFIX}/{topology.namespace}/tenants/{T}/accounts/{label.encode().hex()}"
    found = root.secrets.kv.v2.read_secret_version(path=path, raise_on_deleted_version=True)
    data: dict[str, str] = found["data"]["data"]
    return data


async def _balances(paper: PaperExchangeProcess, keys: dict[str, str]) -> dict[str, Decimal]:
    exchange = ccxt_async.binance(ccxt_config(paper.base_url, keys["api_key"], keys["secret"]))
    try:
        free = (await exchange.fetch_balance())["free"]
    finally:
        await exchange.close()
    return {asset: Decimal(str(amount)) for asset, amount in free.items() if amount}


async def test_a_free_plan_tenant_opens_a_valid_paper_account_with_10000_usdt(
    *,
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    vault: VaultServer,
) -> None:
    key = await seed_tenant(js, topology, T, api=http)  # free plan: one account
    opened = await http.post(PAPER, json={"label": "practice"}, headers=bearer(key))
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert (body["label"], body["exchange_id"], body["mode"], body["market_type"]) == (
        "practice",
        "binance",
        "paper",
        "spot",
    )
    assert body["status"] == "valid"
    keys = _stored_keys(vault, topology, "practice")
    assert keys["api_key"] not in opened.text
    assert keys["secret"] not in opened.text
    assert await _balances(paper, keys) == {"USDT": Decimal(10_000)}
    listed = (await http.get("/api/v1/exchange-accounts", headers=bearer(key))).json()
    assert [a["label"] for a in listed["accounts"]] == ["practice"]


async def test_chosen_balances_a_taken_label_and_the_plan_limit(
    *,
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    vault: VaultServer,
) -> None:
    key = await seed_tenant(js, topology, T, api=http, max_exchange_accounts=2)
    balances = {"USDT": "2500.5", "BTC": "0.25"}
    first = await http.post(PAPER, json={"label": "a", "balances": balances}, headers=bearer(key))
    assert first.status_code == 201, first.text
    found = await _balances(paper, _stored_keys(vault, topology, "a"))
    assert found == {"USDT": Decimal("2500.5"), "BTC": Decimal("0.25")}
    again = await http.post(PAPER, json={"label": "a"}, headers=bearer(key))
    assert again.status_code == 409
    assert "already have an account labelled 'a'" in again.json()["error"]
    second = await http.post(PAPER, json={"label": "b"}, headers=bearer(key))
    assert second.status_code == 201, second.text
    third = await http.post(PAPER, json={"label": "c"}, headers=bearer(key))
    assert third.status_code == 403
    assert "Your plan allows 2 exchange accounts" in third.json()["error"]


async def test_a_futures_paper_account_gets_its_usdt_as_the_futures_wallet(
    *,
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    vault: VaultServer,
) -> None:
    key = await seed_tenant(js, topology, T, api=http)
    body = {"label": "perps", "market_type": "futures", "balances": {"USDT": "5000"}}
    opened = await http.post(PAPER, json=body, headers=bearer(key))
    assert opened.status_code == 201, opened.text
    assert (opened.json()["market_type"], opened.json()["status"]) == ("futures", "valid")
    keys = _stored_keys(vault, topology, "perps")
    config = futures_ccxt_config(paper.base_url, keys["api_key"], keys["secret"])
    exchange = ccxt_async.binanceusdm(config)
    try:
        wallet = (await exchange.fetch_balance())["USDT"]["total"]
    finally:
        await exchange.close()
    assert Decimal(str(wallet)) == Decimal(5000)


@pytest.mark.parametrize(
    "body",
    [
        {"label": "x", "balances": {"USDT": "1000001"}},
        {"label": "x", "balances": {"usdt": "10"}},
        {"label": "x", "balances": {f"A{i}": "1" for i in range(11)}},
        {"label": "x", "balances": {}},
        {"label": "a/b"},
        {"label": "x", "exchange_id": "binance"},
    ],
)
async def test_absurd_balances_and_bad_labels_are_refused_and_nothing_is_opened(
    body: dict[str, Any], http: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    key = await seed_tenant(js, topology, T, api=http, max_exchange_accounts=None)
    refused = await http.post(PAPER, json=body, headers=bearer(key))
    assert refused.status_code == 422, refused.text
    assert (await http.get("/api/v1/exchange-accounts", headers=bearer(key))).json() == {
        "accounts": []
    }


async def test_a_paper_account_is_removed_like_any_other(
    *, http: httpx.AsyncClient, js: JetStreamContext, topology: Topology, vault: VaultServer
) -> None:
    key = await seed_tenant(js, topology, T, api=http)
    assert (await http.post(PAPER, json={"label": "p"}, headers=bearer(key))).status_code == 201
    assert (
        await http.delete(f"{PAPER.rsplit('/', 1)[0]}/p", headers=bearer(key))
    ).status_code == 204
    with pytest.raises(hvac.exceptions.InvalidPath):
        _stored_keys(vault, topology, "p")
    reopened = await http.post(PAPER, json={"label": "p"}, headers=bearer(key))
    assert reopened.status_code == 201, reopened.text


@asynccontextmanager
async def _accounts_api(settings: ExecutorSettings) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=60, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://accounts") as client:
            yield client


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"paper_admin_token": None}, "no paper exchange is configured"),
        ({"paper_admin_token": SecretStr("sop_" + "w" * 30)}, "cannot open an account now"),
        ({"paper_exchange_url": "http://127.0.0.1:{port}"}, "cannot open an account now"),
    ],
)
async def test_without_a_working_paper_exchange_the_answer_is_503_and_nothing_is_kept(
    change: dict[str, Any],
    words: str,
    settings: ExecutorSettings,
    js: JetStreamContext,
    topology: Topology,
) -> None:
    if "paper_exchange_url" in change:
        change = {"paper_exchange_url": change["paper_exchange_url"].format(port=free_port())}
    async with _accounts_api(settings.model_copy(update=change)) as http:
        key = await seed_tenant(js, topology, T, api=http)
        refused = await http.post(PAPER, json={"label": "p"}, headers=bearer(key))
        assert refused.status_code == 503, refused.text
        assert words in refused.json()["error"]
        assert refused.headers["Retry-After"]
        listed = await http.get("/api/v1/exchange-accounts", headers=bearer(key))
        assert listed.json() == {"accounts": []}
