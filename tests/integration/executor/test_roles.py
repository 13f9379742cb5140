"""The executor's two processes, as deployed: trading (the ORDERS consumer, Vault read only, no
accounts API) and accounts (the exchange-accounts API, Vault write), each logged in to OpenBao
with the policy of deploy/vault it runs with in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import hvac
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from nats.js import JetStreamContext

from libs.common.topology import Topology
from services.executor.adapters.credentials import Credentials
from services.executor.app import create_app
from services.executor.config import ExecutorRole, ExecutorSettings
from services.executor.errors import CredentialsUnavailableError
from services.executor.runtime import Runtime
from tests.helpers.executor import (
    VAULT_PREFIX,
    VaultIdentities,
    deployed_policies,
    kinds,
    make_settings,
    market_order,
    publish_order,
    setup_approles,
    wait_for_events,
)
from tests.helpers.namespaces import PgSchema
from tests.helpers.paper import PaperExchangeProcess
from tests.helpers.servers import ServerUrls
from tests.helpers.vault import VaultServer
from tests.integration.executor.orders import paper_tenant

T = "tenant-roles"
ACCOUNTS = "/api/v1/exchange-accounts"


@pytest.fixture
def deployed(vault: VaultServer, namespace: str) -> VaultIdentities:
    """AppRoles with deploy/vault's policies (for this test's namespace): read, and write."""
    return setup_approles(
        vault.url, vault.root_token, suffix=namespace, policies=deployed_policies(namespace)
    )


@pytest.fixture
def role_settings(
    server_urls: ServerUrls,
    namespace: str,
    pg_schema: PgSchema,
    deployed: VaultIdentities,
    paper: PaperExchangeProcess,
) -> dict[ExecutorRole, ExecutorSettings]:
    return {
        role: make_settings(
            server_urls, namespace, pg_schema, deployed, paper.base_url, role=role.value
        )
        for role in (ExecutorRole.TRADING, ExecutorRole.ACCOUNTS)
    }


@asynccontextmanager
async def running(settings: ExecutorSettings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://executor") as client:
            yield app, client


@pytest.fixture
async def trading(
    role_settings: dict[ExecutorRole, ExecutorSettings], js: JetStreamContext
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running(role_settings[ExecutorRole.TRADING]) as started:
        yield started


@pytest.fixture
async def accounts(
    role_settings: dict[ExecutorRole, ExecutorSettings], js: JetStreamContext
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running(role_settings[ExecutorRole.ACCOUNTS]) as started:
        yield started


def runtime_of(app: FastAPI) -> Runtime:
    found: Runtime = app.state.runtime
    return found


async def test_the_trading_process_has_no_accounts_api_but_answers_health_and_metrics(
    trading: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, http = trading
    body = {"label": "main", "exchange_id": "binance", "mode": "paper", "validate": False}
    body |= {"api_key": "k" * 16, "secret": "s" * 16}
    assert (await http.post(ACCOUNTS, json=body)).status_code in (404, 405)
    assert (await http.get(ACCOUNTS)).status_code in (404, 405)
    assert (await http.patch(f"{ACCOUNTS}/main", json=body)).status_code in (404, 405)
    assert (await http.delete(f"{ACCOUNTS}/main")).status_code in (404, 405)
    paths = (await http.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith(ACCOUNTS)]
    for ops in ("/healthz", "/readyz", "/metrics"):
        assert (await http.get(ops)).status_code == 200, ops


async def test_the_accounts_process_serves_the_api_and_consumes_no_orders(
    accounts: tuple[FastAPI, httpx.AsyncClient], js: JetStreamContext, topology: Topology
) -> None:
    app, http = accounts
    assert (await http.get(ACCOUNTS)).status_code == 401  # mounted: asks for an API key
    for ops in ("/healthz", "/readyz", "/metrics"):
        assert (await http.get(ops)).status_code == 200, ops
    runtime = runtime_of(app)
    assert (runtime.consumer, runtime.tracker, runtime.marks) == (None, None, None)
    assert not await js.consumers_info(topology.orders_stream)


async def test_an_account_the_accounts_process_adds_is_traded_by_the_trading_process(
    accounts: tuple[FastAPI, httpx.AsyncClient],
    trading: tuple[FastAPI, httpx.AsyncClient],
    js: JetStreamContext,
    topology: Topology,
    paper: PaperExchangeProcess,
) -> None:
    _, api = accounts
    await paper_tenant(api, js, topology, paper, T)  # written with the write policy
    await publish_order(js, topology, market_order(T))
    events = await wait_for_events(js, topology, T, lambda es: "order.filled" in kinds(es))
    assert kinds(events) == ["order.submitted", "order.filled"]  # read with the read policy


async def test_vault_refuses_the_trading_process_any_write_of_keys(
    accounts: tuple[FastAPI, httpx.AsyncClient],
    trading: tuple[FastAPI, httpx.AsyncClient],
    vault: VaultServer,
    topology: Topology,
) -> None:
    writer, reader = runtime_of(accounts[0]).vault, runtime_of(trading[0]).vault
    stored = Credentials(api_key="stored-key-1234", secret="stored-secret-1234")
    await writer.write(T, "main", stored)
    assert await reader.read(T, "main") == stored

    forged = Credentials(api_key="forged-key-1234", secret="forged-secret-1234")
    with pytest.raises(CredentialsUnavailableError) as wrote:
        await reader.write(T, "main", forged)
    assert isinstance(wrote.value.__cause__, hvac.exceptions.Forbidden)  # the server's 403
    with pytest.raises(CredentialsUnavailableError) as deleted:
        await reader.delete(T, "main")
    assert isinstance(deleted.value.__cause__, hvac.exceptions.Forbidden)
    with pytest.raises(CredentialsUnavailableError) as other:
        await reader.write(T, "another", forged)  # a new secret: create is refused too
    assert isinstance(other.value.__cause__, hvac.exceptions.Forbidden)

    root = hvac.Client(url=vault.url, token=vault.root_token)
    path = f"{VAULT_PREFIX}/{topology.namespace}/tenants/{T}/accounts/{b'main'.hex()}"
    kept = root.secrets.kv.v2.read_secret_version(path=path, raise_on_deleted_version=True)
    assert kept["data"]["data"]["api_key"] == "stored-key-1234"
    assert kept["data"]["metadata"]["version"] == 1
    await writer.delete(T, "main")  # the write policy may remove the account's keys


async def test_neither_identity_may_list_tenants_accounts(
    deployed: VaultIdentities, vault: VaultServer, topology: Topology
) -> None:
    for role in (deployed.reader, deployed.writer):
        client = hvac.Client(url=vault.url)
        client.auth.approle.login(role_id=role.role_id, secret_id=role.secret_id)
        with pytest.raises(hvac.exceptions.Forbidden):
            client.secrets.kv.v2.list_secrets(
                path=f"{VAULT_PREFIX}/{topology.namespace}/tenants", mount_point="secret"
            )
