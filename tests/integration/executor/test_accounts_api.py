"""The exchange-accounts API (the executor's accounts process): keys go to Vault only, never
come back, and are checked.
"""

from __future__ import annotations

import httpx
import hvac
import pytest
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError
from sqlalchemy import text

from libs.common.records import AccountRecord, AccountStatus, account_key
from libs.common.topology import Topology
from services.executor.config import ExecutorRole, ExecutorSettings
from services.executor.runtime import Runtime
from tests.helpers.executor import VAULT_PREFIX, seed_tenant
from tests.helpers.paper import PaperExchangeProcess
from tests.helpers.vault import VaultServer

T = "tenant-accounts"


@pytest.fixture
def settings(settings: ExecutorSettings) -> ExecutorSettings:
    """The accounts process, as deployed: the API and its Vault write identity, no trading."""
    return settings.model_copy(update={"role": ExecutorRole.ACCOUNTS})


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_an_added_account_keeps_its_keys_in_vault_only_and_never_shows_them(
    *,
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    vault: VaultServer,
    runtime: Runtime,
) -> None:
    key = await seed_tenant(js, topology, T, api=http, max_exchange_accounts=2)
    account = await paper.create_account({"USDT": "1000"})
    body = {
        "label": "main",
        "exchange_id": "binance",
        "mode": "paper",
        "api_key": account.api_key,
        "secret": account.secret,
    }
    created = await http.post("/api/v1/exchange-accounts", json=body, headers=bearer(key))
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "valid"
    listed = await http.get("/api/v1/exchange-accounts", headers=bearer(key))
    for response in (created, listed):
        assert account.api_key not in response.text
        assert account.secret not in response.text

    root = hvac.Client(url=vault.url, token=vault.root_token)
    path = f"{VAULT_PREFIX}/{topology.namespace}/tenants/{T}/accounts/{b'main'.hex()}"
    stored = root.secrets.kv.v2.read_secret_version(path=path, raise_on_deleted_version=True)
    assert stored["data"]["data"]["api_key"] == account.api_key
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM accounts"))).all()
    assert rows
    assert account.secret not in repr(rows)
    assert account.api_key not in repr(rows)

    kv = await js.key_value(topology.accounts_bucket)
    entry = await kv.get(account_key(T, "main"))
    record = AccountRecord.model_validate_json(entry.value or b"")
    assert record.status is AccountStatus.VALID
    assert account.api_key not in (entry.value or b"").decode()


async def test_keys_the_exchange_refuses_mark_the_account_invalid_with_the_reason(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    key = await seed_tenant(js, topology, T, api=http)
    body = {
        "label": "main",
        "exchange_id": "binance",
        "mode": "paper",
        "api_key": "not-a-key-the-exchange-knows",
        "secret": "not-a-secret-the-exchange-knows",
    }
    created = await http.post("/api/v1/exchange-accounts", json=body, headers=bearer(key))
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "invalid"
    assert created.json()["status_message"].startswith("The exchange refused these API keys")
    assert "not-a-secret" not in created.text


async def test_the_plan_limit_on_accounts_is_enforced_in_words(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    key = await seed_tenant(js, topology, T, api=http, max_exchange_accounts=1)
    body = {"exchange_id": "binance", "mode": "paper", "api_key": "k" * 16, "secret": "s" * 16}
    first = await http.post(
        "/api/v1/exchange-accounts",
        json=body | {"label": "a", "validate": False},
        headers=bearer(key),
    )
    assert first.status_code == 201, first.text
    second = await http.post(
        "/api/v1/exchange-accounts",
        json=body | {"label": "b", "validate": False},
        headers=bearer(key),
    )
    assert second.status_code == 403
    assert "Your plan allows 1 exchange account" in second.json()["error"]


async def test_a_taken_label_an_unknown_exchange_and_live_on_free_are_refused(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    key = await seed_tenant(js, topology, T, api=http, max_exchange_accounts=None)
    body = {"label": "a", "exchange_id": "binance", "mode": "paper", "validate": False}
    body |= {"api_key": "k" * 16, "secret": "s" * 16}
    url = "/api/v1/exchange-accounts"
    assert (await http.post(url, json=body, headers=bearer(key))).status_code == 201
    taken = await http.post(url, json=body, headers=bearer(key))
    assert taken.status_code == 409
    assert "already have an account" in taken.json()["error"]
    unknown = await http.post(
        url, json=body | {"label": "b", "exchange_id": "nope"}, headers=bearer(key)
    )
    assert unknown.status_code == 409
    assert "not supported" in unknown.json()["error"]
    live = await http.post(url, json=body | {"label": "c", "mode": "live"}, headers=bearer(key))
    assert live.status_code == 403
    assert "paper and testnet" in live.json()["error"]


async def test_a_bad_body_is_refused_without_echoing_the_keys(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    key = await seed_tenant(js, topology, T, api=http)
    body = {
        "label": "a",
        "mode": "paper",
        "api_key": "AKEYTHATMUSTNOTLEAK",
        "secret": "SECRETNOLEAK1",
    }
    refused = await http.post("/api/v1/exchange-accounts", json=body, headers=bearer(key))
    assert refused.status_code == 422
    assert "exchange_id" in refused.text
    assert "AKEYTHATMUSTNOTLEAK" not in refused.text
    assert "SECRETNOLEAK1" not in refused.text


async def test_keys_are_replaced_revalidated_and_removal_deletes_everything(
    http: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
    vault: VaultServer,
) -> None:
    key = await seed_tenant(js, topology, T, api=http)
    account = await paper.create_account({"USDT": "1000"})
    url = "/api/v1/exchange-accounts"
    body = {"label": "main", "exchange_id": "binance", "mode": "paper"}
    body |= {"api_key": "k" * 16, "secret": "s" * 16}
    created = await http.post(url, json=body, headers=bearer(key))
    assert created.json()["status"] == "invalid"
    keys = {"api_key": account.api_key, "secret": account.secret}
    patched = await http.patch(f"{url}/main", json=keys, headers=bearer(key))
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "valid"
    revalidated = await http.post(f"{url}/main/validate", headers=bearer(key))
    assert revalidated.json()["status"] == "valid"

    assert (await http.delete(f"{url}/main", headers=bearer(key))).status_code == 204
    assert (await http.get(f"{url}/main", headers=bearer(key))).status_code == 404
    root = hvac.Client(url=vault.url, token=vault.root_token)
    path = f"{VAULT_PREFIX}/{topology.namespace}/tenants/{T}/accounts/{b'main'.hex()}"
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.secrets.kv.v2.read_secret_version(path=path, raise_on_deleted_version=True)
    kv = await js.key_value(topology.accounts_bucket)
    with pytest.raises(KeyNotFoundError):
        await kv.get(account_key(T, "main"))


async def test_another_tenants_account_is_not_found(
    http: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    owner = await seed_tenant(js, topology, "tenant-owner", api=http)
    other = await seed_tenant(js, topology, "tenant-other", api=http)
    body = {"label": "main", "exchange_id": "binance", "mode": "paper", "validate": False}
    body |= {"api_key": "k" * 16, "secret": "s" * 16}
    assert (
        await http.post("/api/v1/exchange-accounts", json=body, headers=bearer(owner))
    ).status_code == 201
    url = "/api/v1/exchange-accounts/main"
    assert (await http.get(url, headers=bearer(other))).status_code == 404
    assert (await http.delete(url, headers=bearer(other))).status_code == 404
    assert (await http.get(url, headers=bearer(owner))).status_code == 200
