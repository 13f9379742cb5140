"""A replica cut off from NATS stops trusting its copies of the credential buckets.

API keys (every service's API) and webhook URLs (ingress) are refused with 503 once the
in-memory copies have been out of touch for longer than their staleness bound, and accepted
again once the copies are back in touch; a quiet bucket alone never makes a copy stale.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import nats
import pytest
from fastapi import FastAPI
from nats.aio.client import Client
from nats.js import JetStreamContext

from libs.common.auth import ApiKeyAuthenticator, CurrentTenant
from libs.common.jetstream import ensure_topology
from libs.common.kv_mirror import KVMirror
from libs.common.records import ApiKeyRecord, TenantRecord, WebhookTokenRecord, secret_digest
from libs.common.topology import Topology
from services.ingress.domain.webhook import WebhookGate
from services.ingress.errors import UnavailableError
from tests import factories
from tests.helpers.polling import eventually
from tests.helpers.ports import PrivateNats

T = TypeVar("T")

BOUND_S = 1.0
KEY = "spk_" + "staleness" * 5
TOKEN = "whk_" + "staleness" * 5


@dataclass
class Replica:
    """One replica's copies of the credential buckets, on a NATS the test may kill."""

    server: PrivateNats
    nc: Client
    api_keys: KVMirror[ApiKeyRecord]
    tenants: KVMirror[TenantRecord]
    tokens: KVMirror[WebhookTokenRecord]
    api: httpx.AsyncClient

    def all_in_touch(self) -> bool:
        return all(m.in_touch for m in (self.api_keys, self.tenants, self.tokens))

    async def me(self) -> httpx.Response:
        return await self.api.get("/me", headers={"Authorization": f"Bearer {KEY}"})

    def gate(self) -> WebhookGate:
        return WebhookGate(self.tokens, self.tenants)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PrivateNats]:
    private = PrivateNats(tmp_path / "jetstream")
    private.start()
    yield private
    private.kill()


async def _seed(js: JetStreamContext, topology: Topology) -> None:
    await ensure_topology(js, topology)
    tenant = factories.tenant_record()
    records = {
        topology.tenants_bucket: (tenant.tenant_id, tenant),
        topology.api_keys_bucket: (secret_digest(KEY), factories.api_key_record(tenant.tenant_id)),
        topology.webhook_tokens_bucket: (
            secret_digest(TOKEN),
            factories.webhook_record(tenant.tenant_id),
        ),
    }
    for bucket, (key, record) in records.items():
        await (await js.key_value(bucket)).put(key, record.model_dump_json().encode())


def _app(api_keys: KVMirror[ApiKeyRecord], tenants: KVMirror[TenantRecord]) -> FastAPI:
    app = FastAPI()
    app.state.authenticator = ApiKeyAuthenticator(api_keys, tenants)

    @app.get("/me")
    def me(tenant: CurrentTenant) -> dict[str, str]:
        return {"tenant_id": tenant.tenant_id}

    return app


@pytest.fixture
async def replica(server: PrivateNats, topology: Topology) -> AsyncIterator[Replica]:
    nc = await nats.connect(server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    js = nc.jetstream(timeout=1.0)
    await _seed(js, topology)

    async def mirror(bucket: str, decode: Callable[[bytes], T]) -> KVMirror[T]:
        kv = await js.key_value(bucket)
        m = KVMirror(nc, kv, decode, resync_check_s=0.2, retry_s=0.2, staleness_s=BOUND_S)
        await m.start()
        return m

    api_keys = await mirror(topology.api_keys_bucket, ApiKeyRecord.model_validate_json)
    tenants = await mirror(topology.tenants_bucket, TenantRecord.model_validate_json)
    tokens = await mirror(topology.webhook_tokens_bucket, WebhookTokenRecord.model_validate_json)
    transport = httpx.ASGITransport(app=_app(api_keys, tenants))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as api:
        yield Replica(server, nc, api_keys, tenants, tokens, api)
    for m in (api_keys, tenants, tokens):
        await m.stop()
    await nc.close()


async def test_a_quiet_bucket_keeps_its_copy_in_touch(replica: Replica) -> None:
    await asyncio.sleep(3 * BOUND_S)  # no update at all: only the liveness checks speak
    assert replica.all_in_touch()
    assert (await replica.me()).status_code == 200


async def test_credentials_are_refused_with_503_while_nats_is_away_and_accepted_once_back(
    replica: Replica,
) -> None:
    assert (await replica.me()).status_code == 200
    replica.gate().authenticate(TOKEN, factories.T0)

    replica.server.kill()
    killed = time.monotonic()
    await eventually(
        lambda: not replica.all_in_touch(), what="a copy out of touch", timeout_s=10 * BOUND_S
    )
    took = time.monotonic() - killed
    assert took >= BOUND_S / 2  # not at once: an outage shorter than the bound is tolerated

    refused = await replica.me()
    assert refused.status_code == 503
    assert "cannot confirm your credentials right now" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) > 0
    with pytest.raises(UnavailableError, match="cannot confirm this webhook URL"):
        replica.gate().authenticate(TOKEN, factories.T0)

    replica.server.start()  # same port and store: the buckets are still there
    await eventually(replica.all_in_touch, what="every copy in touch again", timeout_s=30.0)
    assert (await replica.me()).status_code == 200
    replica.gate().authenticate(TOKEN, factories.T0)


async def test_a_copy_whose_watch_stops_goes_stale_after_the_bound(replica: Replica) -> None:
    await replica.api_keys.stop()
    assert replica.api_keys.in_touch  # within the bound the copy is still trusted
    await eventually(
        lambda: not replica.api_keys.in_touch,
        what="the api keys' copy out of touch",
        timeout_s=3 * BOUND_S,
    )
    assert (await replica.me()).status_code == 503
    await replica.api_keys.start()
    await eventually(
        lambda: replica.api_keys.in_touch, what="the api keys' copy in touch again", timeout_s=10.0
    )
    assert (await replica.me()).status_code == 200
