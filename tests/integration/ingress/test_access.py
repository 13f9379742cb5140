"""Revocation reaches ingress within 2 s; IP allowlists see the real client behind proxies."""

from __future__ import annotations

import httpx
from nats.js import JetStreamContext

from libs.common.messages import OrderIntent
from libs.common.records import TenantStatus, secret_digest
from libs.common.topology import Topology
from services.ingress.config import IngressSettings
from tests.helpers.ingress import (
    add_hook,
    alert_body,
    put_tenant,
    serve_in_process,
    stored,
    until_known,
    until_status,
)

LOAD_BALANCER = "10.0.0.2"
STRANGER = "203.0.113.9"


async def test_a_revoked_token_stops_working_within_two_seconds(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)
    tokens = await js.key_value(topology.webhook_tokens_bucket)

    await tokens.delete(secret_digest(hook.token))

    await until_status(client, hook.path, 401, timeout_s=2.0)


async def test_a_suspended_tenant_stops_trading_within_two_seconds_and_resumes(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)

    await put_tenant(
        js, topology, hook.tenant.model_copy(update={"status": TenantStatus.SUSPENDED})
    )
    await until_status(client, hook.path, 403, timeout_s=2.0)

    await put_tenant(js, topology, hook.tenant)
    await until_status(client, hook.path, 400, timeout_s=2.0)


async def test_behind_a_proxy_the_allowlist_checks_the_address_the_proxy_saw(
    js: JetStreamContext, topology: Topology, settings: IngressSettings, redis_client: object
) -> None:
    hook = await add_hook(js, topology, allowed_ips=("tradingview", "198.51.100.0/24"))
    behind_proxy = settings.model_copy(update={"trusted_proxy_hops": 1})
    async with serve_in_process(behind_proxy, client_ip=LOAD_BALANCER) as client:
        await until_status(client, hook.path, 400, headers={"x-forwarded-for": "198.51.100.1"})

        async def post(forwarded: str | None, alert_id: str) -> int:
            headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
            answer = await client.post(hook.path, content=alert_body(id=alert_id), headers=headers)
            return answer.status_code

        from_tradingview = await post(f"{STRANGER}, 52.89.214.238", "a")
        from_allowed_range = await post("198.51.100.77", "b")
        spoofed = await post(f"52.89.214.238, {STRANGER}", "c")
        without_header = await post(None, "d")

    assert (from_tradingview, from_allowed_range) == (202, 202)
    assert (spoofed, without_header) == (403, 403)
    sources = [
        OrderIntent.model_validate_json(m.data or b"").source_ip
        for m in await stored(js, topology.intents_stream)
    ]
    assert sources == ["52.89.214.238", "198.51.100.77"]


async def test_without_trusted_proxies_a_forwarded_header_is_ignored(
    js: JetStreamContext, topology: Topology, settings: IngressSettings, redis_client: object
) -> None:
    hook = await add_hook(js, topology, allowed_ips=("tradingview",))
    async with serve_in_process(settings, client_ip=STRANGER) as client:
        await until_status(client, hook.path, 403, body=b"", timeout_s=5)
        answer = await client.post(
            hook.path, content=alert_body(), headers={"x-forwarded-for": "52.89.214.238"}
        )

    assert answer.status_code == 403
    assert STRANGER in answer.json()["error"]
