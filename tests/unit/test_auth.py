"""API-key authentication decisions, on in-memory lookups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import ApiKeyAuthenticator, CurrentTenant
from libs.common.ids import new_id
from libs.common.records import (
    ApiKeyRecord,
    CredentialStatus,
    TenantRecord,
    TenantStatus,
    secret_digest,
)
from tests import factories
from tests.helpers.lookups import DictLookup

KEY = "spk_" + "k" * 40


@dataclass
class World:
    keys: DictLookup[ApiKeyRecord]
    tenants: DictLookup[TenantRecord]
    client: httpx.AsyncClient
    tenant_id: str


@pytest.fixture
async def world() -> World:
    tenant_id = new_id()
    keys = DictLookup({secret_digest(KEY): factories.api_key_record(tenant_id)})
    tenants = DictLookup({tenant_id: factories.tenant_record(tenant_id)})
    app = FastAPI()
    app.state.authenticator = ApiKeyAuthenticator(keys, tenants, clock=lambda: factories.T0)

    @app.get("/me")
    def me(tenant: CurrentTenant) -> dict[str, str]:
        return {"tenant_id": tenant.tenant_id}

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    return World(keys, tenants, client, tenant_id)


async def test_a_valid_key_identifies_its_tenant(world: World) -> None:
    for headers in ({"Authorization": f"Bearer {KEY}"}, {"X-API-Key": KEY}):
        resp = await world.client.get("/me", headers=headers)
        assert resp.status_code == 200
        assert resp.json() == {"tenant_id": world.tenant_id}


async def test_no_key_or_an_unknown_key_is_401(world: World) -> None:
    for headers in ({}, {"Authorization": "Bearer spk_wrong"}, {"Authorization": "Basic x"}):
        resp = await world.client.get("/me", headers=headers)
        assert resp.status_code == 401
        assert resp.headers["www-authenticate"] == "Bearer"


async def test_revoked_or_expired_key_is_401(world: World) -> None:
    digest = secret_digest(KEY)
    record = world.keys.data[digest]
    world.keys.data[digest] = record.model_copy(update={"status": CredentialStatus.DISABLED})
    assert (await world.client.get("/me", headers={"X-API-Key": KEY})).status_code == 401
    world.keys.data[digest] = record.model_copy(
        update={"expires_at": factories.T0 - timedelta(seconds=1)}
    )
    assert (await world.client.get("/me", headers={"X-API-Key": KEY})).status_code == 401
    world.keys.data[digest] = record.model_copy(
        update={"expires_at": factories.T0 + timedelta(seconds=1)}
    )
    assert (await world.client.get("/me", headers={"X-API-Key": KEY})).status_code == 200


async def test_a_valid_key_is_503_while_a_copy_is_out_of_touch_with_nats(world: World) -> None:
    world.tenants.in_touch = False
    resp = await world.client.get("/me", headers={"X-API-Key": KEY})
    assert resp.status_code == 503
    assert "cannot confirm your credentials right now" in resp.json()["detail"]
    assert int(resp.headers["retry-after"]) > 0
    world.tenants.in_touch = True
    assert (await world.client.get("/me", headers={"X-API-Key": KEY})).status_code == 200


async def test_suspended_tenant_is_403(world: World) -> None:
    tenant = world.tenants.data[world.tenant_id]
    world.tenants.data[world.tenant_id] = tenant.model_copy(
        update={"status": TenantStatus.SUSPENDED}
    )
    resp = await world.client.get("/me", headers={"X-API-Key": KEY})
    assert resp.status_code == 403
    assert resp.json() == {"detail": "This account is suspended."}


async def test_not_yet_loaded_mirrors_answer_503_not_401(world: World) -> None:
    world.keys.ready = False
    assert (await world.client.get("/me", headers={"X-API-Key": KEY})).status_code == 503


async def test_the_key_never_appears_in_an_answer(world: World) -> None:
    resp = await world.client.get("/me", headers={"Authorization": f"Bearer {KEY}x"})
    assert KEY not in resp.text
