"""Refusals of a tenant's webhooks reach its feed as ``alert.refused``: throttled, without the
body or any secret, and never for a URL Sparky does not know."""

from __future__ import annotations

import time

import httpx
from nats.js import JetStreamContext

from libs.common.messages import AlertRefused, RefusalReason, decode_event
from libs.common.passphrases import hash_passphrase
from libs.common.records import TenantStatus
from libs.common.topology import Topology
from services.ingress.config import IngressSettings
from tests import factories
from tests.helpers.ingress import (
    Hook,
    add_hook,
    alert_body,
    new_token,
    serve_in_process,
    stored_eventually,
    until_known,
    until_status,
)
from tests.helpers.polling import eventually

KIND = "alert.refused"
SECRET = "correct horse battery"


async def _refusals(js: JetStreamContext, topology: Topology, count: int) -> list[AlertRefused]:
    messages = await stored_eventually(js, topology.events_stream, count, kind=KIND)
    events = [decode_event(m.data or b"") for m in messages]
    assert all(isinstance(e, AlertRefused) for e in events)
    return [e for e in events if isinstance(e, AlertRefused)]


async def _known(client: httpx.AsyncClient, js: JetStreamContext, topology: Topology) -> Hook:
    """A webhook with a passphrase, once ingress knows it (which took one or more 400s)."""
    hook = await add_hook(js, topology, passphrase_hash=hash_passphrase(SECRET))
    await until_known(client, hook)
    return hook


async def test_each_refusal_of_a_known_webhook_is_reported_with_its_reason_and_no_secret(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await _known(client, js, topology)
    wrong = await client.post(hook.path, content=alert_body(passphrase="wrong horse"))
    huge = await client.post(hook.path, content=b"x" * 70_000)
    assert (wrong.status_code, huge.status_code) == (401, 413)

    events = await _refusals(js, topology, 3)  # until_known's 400 first

    by_reason = {e.reason: e for e in events}
    assert set(by_reason) == {
        RefusalReason.INVALID_ALERT,
        RefusalReason.PASSPHRASE,
        RefusalReason.TOO_LARGE,
    }
    passphrase = by_reason[RefusalReason.PASSPHRASE]
    assert (passphrase.tenant_id, passphrase.webhook_id) == (
        hook.tenant.tenant_id,
        hook.record.webhook_id,
    )
    assert (passphrase.status, passphrase.message) == (401, wrong.json()["error"])
    assert by_reason[RefusalReason.TOO_LARGE].status == 413
    for message in await stored_eventually(js, topology.events_stream, 3, kind=KIND):
        payload = (message.data or b"").decode()
        assert "wrong horse" not in payload
        assert hook.token not in payload
        assert "BINANCE" not in payload  # nothing of the body
        assert message.subject == topology.event_subject(hook.tenant.tenant_id, KIND)


async def test_a_flood_of_refusals_is_folded_into_a_few_events_that_count_them_all(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)  # one 400: reported at once
    await _refusals(js, topology, 1)
    flood = 50
    started = time.monotonic()
    for _ in range(flood):
        assert (await client.post(hook.path, content=b"{}")).status_code == 400
    seconds = time.monotonic() - started

    events = await eventually(
        lambda: _refusals(js, topology, 1),
        until=lambda found: sum(e.count for e in found) >= flood + 1,
        what=f"{flood + 1} refusals counted",
        timeout_s=5,
    )

    # At most one event per second per webhook and reason, whatever the flood.
    assert len(events) <= 2 + int(seconds)
    assert sum(e.count for e in events) == flood + 1
    assert all(e.first_refused_at <= e.occurred_at for e in events)


async def test_a_url_sparky_does_not_know_is_never_reported(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology, allowed_ips=("198.51.100.0/24",))
    stranger = f"/webhooks/tv/{new_token()}"
    for _ in range(5):
        assert (await client.post(stranger, content=alert_body())).status_code == 401
    await until_status(client, hook.path, 403, body=alert_body())  # 401 until it is known

    # Reported in order: had the unknown URL been reported, it would come first.
    (event,) = await _refusals(js, topology, 1)
    assert (event.reason, event.webhook_id) == (
        RefusalReason.IP_NOT_ALLOWED,
        hook.record.webhook_id,
    )


async def test_a_suspended_account_is_reported_to_its_feed(
    js: JetStreamContext, topology: Topology, settings: IngressSettings, redis_client: object
) -> None:
    tenant = factories.tenant_record(status=TenantStatus.SUSPENDED)
    hook = await add_hook(js, topology, tenant=tenant)
    async with serve_in_process(settings) as client:
        await until_status(client, hook.path, 403, body=alert_body())
    (event,) = await _refusals(js, topology, 1)
    assert (event.reason, event.status) == (RefusalReason.SUSPENDED, 403)
