"""Accounts come from the admin API or the CLI; credentials are shown once and never logged."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import httpx
import pytest

from scripts.devstack import run_command
from tests.helpers.paper import PaperAccount, PaperExchangeProcess


async def test_the_admin_api_refuses_requests_without_its_token(
    paper: PaperExchangeProcess,
) -> None:
    async with httpx.AsyncClient(base_url=paper.base_url) as client:
        missing = await client.post("/admin/accounts", json={"balances": {"USDT": "1"}})
        wrong = await client.get("/admin/faults", headers={"Authorization": "Bearer sop_wrong"})
    assert missing.status_code == wrong.status_code == 401


async def test_an_account_shows_balances_but_never_its_credentials_again(
    paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    headers = {"Authorization": f"Bearer {paper.admin_token}"}
    async with httpx.AsyncClient(base_url=paper.base_url, headers=headers) as client:
        response = await client.get(f"/admin/accounts/{account.account_id}")
        unknown = await client.get("/admin/accounts/999999")
    assert response.status_code == 200
    assert account.api_key not in response.text
    assert account.secret not in response.text
    assert {b["asset"] for b in response.json()["balances"]} == {"USDT", "BTC", "ETH"}
    assert unknown.status_code == 404


async def test_bad_admin_input_is_refused_with_a_reason(paper: PaperExchangeProcess) -> None:
    headers = {"Authorization": f"Bearer {paper.admin_token}"}
    async with httpx.AsyncClient(base_url=paper.base_url, headers=headers) as client:
        negative = await client.post("/admin/accounts", json={"balances": {"USDT": "-5"}})
        off_tick = await client.put("/admin/prices", json={"prices": {"BTCUSDT": "1.001"}})
        unlisted = await client.put("/admin/prices", json={"prices": {"NOPE": "1"}})
        fault = await client.post("/admin/faults", json={"kind": "meteor"})
    assert negative.status_code == 422
    assert off_tick.status_code == 422
    assert "BTCUSDT" in off_tick.text
    assert unlisted.status_code == 422
    assert fault.status_code == 422


def _cli(paper: PaperExchangeProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return run_command("paper", paper.cfg, *args, timeout_s=60)


async def test_an_account_created_by_the_cli_trades_on_the_running_exchange(
    paper: PaperExchangeProcess,
) -> None:
    done = _cli(
        paper,
        "create-account",
        "--state-path",
        str(paper.state_path),
        "--balance",
        "USDT=250",
        "--balance",
        "btc=0.5",
        "--label",
        "cli",
    )
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    account = PaperAccount(created["account_id"], created["api_key"], created["secret"])
    client: Any = paper.client(account)
    try:
        balance = await client.fetch_balance()
    finally:
        await client.close()
    assert balance["total"] == {"USDT": 250.0, "BTC": 0.5}


def test_the_cli_explains_a_malformed_balance(paper_server: PaperExchangeProcess) -> None:
    done = _cli(paper_server, "create-account", "--balance", "USDT:100")
    assert done.returncode == 2
    assert "ASSET=AMOUNT" in done.stderr


@pytest.mark.usefixtures("exchange")
async def test_no_credential_reaches_the_exchanges_log(
    paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    client: Any = paper.client(account)
    try:
        await client.create_order("BTC/USDT", "market", "buy", 0.001)
        await client.fetch_balance()
    finally:
        await client.close()
    log = paper.log_path.read_text()
    assert "/api/v3/order" in log  # the requests were logged...
    assert account.api_key not in log  # ...without the key or the secret
    assert account.secret not in log
