"""The executor's and billing's APIs while Postgres is away: 503 with Retry-After, never a 500,
and never a claim that nothing changed; 200 again once it is back, without a restart.

Billing and the executor run on a Postgres cluster of this test's own (the shared one is never
stopped); NATS, Redis and the Vault API are the shared ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from tests.helpers.polling import eventually
from tests.helpers.private_postgres import private_postgres
from tests.helpers.servers import ServerUrls
from tests.helpers.stack import running_stack
from tests.helpers.vault import VaultServer

SERVICES = ("paper", "billing", "accounts")  # the exchange-accounts API: the executor's code
BACK_WITHIN_S = 60.0

Call = Callable[[], Awaitable[httpx.Response]]


async def test_executor_and_billing_answer_503_with_retry_after_while_postgres_is_away(
    server_urls: ServerUrls, vault: VaultServer, namespace: str, tmp_path: Path
) -> None:
    with private_postgres() as postgres:
        urls = ServerUrls(nats=server_urls.nats, redis=server_urls.redis, postgres=postgres.url)
        async with (
            running_stack(urls, vault, namespace, tmp_path / "stack", SERVICES) as stack,
            httpx.AsyncClient(timeout=30) as client,
        ):
            cfg = stack.cfg
            operator = {"Authorization": f"Bearer {cfg.operator_token}"}
            created = await client.post(
                f"{cfg.url('billing')}/api/v1/tenants", json={"name": "outage"}, headers=operator
            )
            assert created.status_code == 201, created.text
            tenant = {"Authorization": f"Bearer {created.json()['api_key']['key']}"}
            accounts = f"{cfg.url('accounts')}/api/v1/exchange-accounts"
            new_account = {
                "label": "during-outage",
                "exchange_id": "binance",
                "mode": "paper",
                "api_key": "k" * 16,
                "secret": "s" * 16,
                "validate": False,
            }
            reads: dict[str, Call] = {
                "billing operator": lambda: client.get(
                    f"{cfg.url('billing')}/api/v1/tenants", headers=operator
                ),
                "billing tenant": lambda: client.get(
                    f"{cfg.url('billing')}/api/v1/account", headers=tenant
                ),
                "accounts": lambda: client.get(accounts, headers=tenant),
            }
            await eventually(
                lambda: _all_answer(reads, 200),
                what="the tenant's key known everywhere",
                timeout_s=15,
            )

            await asyncio.to_thread(postgres.stop, "fast")
            changes: dict[str, Call] = {
                "billing change": lambda: client.post(
                    f"{cfg.url('billing')}/api/v1/api-keys", json={"label": "x"}, headers=tenant
                ),
                "accounts change": lambda: client.post(accounts, json=new_account, headers=tenant),
            }
            away = {name: await call() for name, call in (reads | changes).items()}

            await asyncio.to_thread(postgres.start)
            await eventually(
                lambda: _all_answer(reads, 200),
                what="200 again once Postgres is back",
                timeout_s=BACK_WITHIN_S,
            )

    statuses = {name: answer.status_code for name, answer in away.items()}
    assert set(statuses.values()) == {503}, statuses
    for name, answer in away.items():
        assert int(answer.headers["Retry-After"]) > 0, name
        assert "nothing was changed" not in answer.json()["error"].lower(), name


async def _all_answer(calls: dict[str, Call], status: int) -> bool:
    answers = [await call() for call in calls.values()]
    return all(answer.status_code == status for answer in answers)
