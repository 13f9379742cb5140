"""Fixtures of the executor's integration tests: Vault identities, a paper exchange, the app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from nats.js import JetStreamContext

from services.executor.app import create_app
from services.executor.config import ExecutorSettings
from services.executor.runtime import Runtime
from tests.helpers.executor import VaultIdentities, make_settings, setup_approles
from tests.helpers.namespaces import PgSchema
from tests.helpers.paper import PaperExchangeProcess, paper_exchange
from tests.helpers.servers import ServerUrls
from tests.helpers.vault import VaultServer


@pytest.fixture(scope="session")
def vault_identities(vault: VaultServer) -> VaultIdentities:
    """A read-only AppRole for trading and a writing one for the API, on the session Vault."""
    return setup_approles(vault.url, vault.root_token)


@pytest.fixture(scope="session")
def paper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperExchangeProcess]:
    """One paper exchange for the session; each test makes its own accounts."""
    with paper_exchange(Path(tmp_path_factory.mktemp("paper"))) as process:
        yield process


@pytest.fixture
def settings(
    server_urls: ServerUrls,
    namespace: str,
    pg_schema: PgSchema,
    vault_identities: VaultIdentities,
    paper: PaperExchangeProcess,
) -> ExecutorSettings:
    return make_settings(server_urls, namespace, pg_schema, vault_identities, paper.base_url)


@pytest.fixture
async def app(settings: ExecutorSettings, js: JetStreamContext) -> AsyncIterator[FastAPI]:
    """The executor, started in this process (API, consumer and tracker)."""
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=60, shutdown_timeout=30):
        yield application


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    found: Runtime = app.state.runtime
    return found


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the executor's API."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://executor") as client:
        yield client
