"""The read API answers 503 with Retry-After, in words, while its database cannot be reached."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from nats.aio.client import Client
from nats.js import JetStreamContext

from libs.common.auth import live_authenticator
from libs.common.topology import Topology
from services.ledger.api import routes as api
from services.ledger.api.reads import Reads
from services.ledger.config import LedgerSettings
from services.ledger.store.database import engine_for
from tests.helpers.polling import eventually
from tests.helpers.ports import free_port
from tests.integration.ledger.support import grant_key


async def test_a_database_that_refuses_connections_gets_503_with_retry_after(
    settings: LedgerSettings, nc: Client, js: JetStreamContext, topology: Topology
) -> None:
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    engine = engine_for(settings.model_copy(update={"database_url": nowhere}))
    app = FastAPI()
    api.install(app)
    app.state.reads = Reads(engine, settings.reader_role)
    try:
        async with live_authenticator(nc, js, topology) as auth:
            app.state.authenticator = auth
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ledger") as http:
                headers = await grant_key(js, topology, "tenant-a")
                answers: list[httpx.Response] = []

                async def authenticated() -> bool:
                    answers.append(await http.get("/api/v1/positions", headers=headers))
                    return answers[-1].status_code != 401 and "Starting" not in answers[-1].text

                await eventually(authenticated, what="the key authenticated", timeout_s=15.0)
    finally:
        await engine.dispose()
    response = answers[-1]
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert "cannot be reached right now" in response.json()["error"]
