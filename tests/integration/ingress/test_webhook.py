"""The webhook against real NATS and Redis: every answer, what gets stored, and dedup."""

from __future__ import annotations

import hashlib
import json

import httpx
from nats.js import JetStreamContext

from libs.common.messages import IntentAccepted, OrderIntent, decode_event
from libs.common.passphrases import hash_passphrase, wrap_sha256
from libs.common.records import CredentialStatus, TenantStatus
from libs.common.topology import Topology
from tests import factories
from tests.helpers.ingress import (
    TRADINGVIEW_IP,
    add_hook,
    alert_body,
    put_tenant,
    put_webhook,
    stored,
    stored_eventually,
    until_known,
    until_status,
)


async def test_a_valid_alert_is_stored_then_acknowledged_with_its_intent_id(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)
    body = alert_body(qty="12345.123456789012345678901234", id="bar-1")

    answer = await client.post(hook.path, content=body, headers={"content-type": "text/plain"})

    assert answer.status_code == 202
    (message,) = await stored(js, topology.intents_stream)
    intent = OrderIntent.model_validate_json(message.data or b"")
    assert answer.json() == {"intent_id": intent.intent_id}
    assert message.subject == topology.intent_subject(hook.tenant.tenant_id)
    assert (message.headers or {})["Nats-Msg-Id"] == intent.dedup_key
    assert str(intent.alert.quantity) == "12345.123456789012345678901234"
    assert (intent.webhook_id, intent.source_ip) == (hook.record.webhook_id, TRADINGVIEW_IP)
    assert intent.raw_body == body.decode()


async def test_an_accepted_alert_starts_the_tenants_audit_trail(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)

    answer = await client.post(hook.path, content=b"sell BINANCE:ETHUSDT.P 0.5")

    (message,) = await stored_eventually(js, topology.events_stream, 1, kind="intent.accepted")
    event = decode_event(message.data or b"")
    assert isinstance(event, IntentAccepted)
    assert event.intent_id == answer.json()["intent_id"]
    assert message.subject == topology.event_subject(hook.tenant.tenant_id, "intent.accepted")
    assert event.symbol == "BINANCE:ETHUSDT.P"


async def test_an_identical_tradingview_resend_is_stored_once(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)

    first = await client.post(hook.path, content=b"buy BTCUSDT 0.01")
    again = await client.post(hook.path, content=b"buy BTCUSDT 0.01")

    assert first.status_code == 202
    assert (again.status_code, again.json()) == (200, {"duplicate": True})
    assert len(await stored(js, topology.intents_stream)) == 1
    (message,) = await stored_eventually(js, topology.events_stream, 1, kind="intent.accepted")
    event = decode_event(message.data or b"")
    assert isinstance(event, IntentAccepted)
    assert event.intent_id == first.json()["intent_id"]


async def test_the_senders_id_deduplicates_within_a_webhook_only(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    mine, theirs = await add_hook(js, topology), await add_hook(js, topology)
    await until_known(client, mine)
    await until_known(client, theirs)

    codes = [
        (await client.post(mine.path, content=alert_body(id="1", qty="1"))).status_code,
        (await client.post(mine.path, content=alert_body(id="1", qty="2"))).status_code,
        (await client.post(theirs.path, content=alert_body(id="1", qty="1"))).status_code,
    ]

    assert codes == [202, 200, 202]
    assert len(await stored(js, topology.intents_stream)) == 2


async def test_a_bad_alert_gets_400_listing_each_problem_and_nothing_is_stored(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)

    answer = await client.post(hook.path, content=alert_body(action="hodl", qty="-1"))

    assert answer.status_code == 400
    fields = {problem["field"]: problem["message"] for problem in answer.json()["errors"]}
    assert set(fields) == {"action", "quantity"}
    assert "nothing was traded" in answer.json()["error"]
    assert await stored(js, topology.intents_stream) == []


async def test_an_unknown_webhook_url_is_401(
    client: httpx.AsyncClient, js: JetStreamContext
) -> None:
    answer = await client.post("/webhooks/tv/whk_" + "u" * 43, content=alert_body())

    assert answer.status_code == 401
    assert "not valid" in answer.json()["error"]


async def test_a_suspended_tenant_and_a_disabled_webhook_are_403(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)
    suspended = hook.tenant.model_copy(update={"status": TenantStatus.SUSPENDED})
    await put_tenant(js, topology, suspended)
    await until_status(client, hook.path, 403)  # an empty body: nothing stored meanwhile
    refused = await client.post(hook.path, content=alert_body())
    assert (refused.status_code, "suspended" in refused.json()["error"]) == (403, True)

    await put_tenant(js, topology, hook.tenant)
    await until_status(client, hook.path, 400)  # active again
    disabled = hook.record.model_copy(update={"status": CredentialStatus.DISABLED})
    await put_webhook(js, topology, hook.token, disabled)
    await until_status(client, hook.path, 403)
    refused = await client.post(hook.path, content=alert_body())
    assert (refused.status_code, "disabled" in refused.json()["error"]) == (403, True)
    assert await stored(js, topology.intents_stream) == []


async def test_a_body_over_the_limit_is_413_even_a_megabyte(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)

    at_limit = await client.post(hook.path, content=b" " * 16_383 + b"x")
    over = await client.post(hook.path, content=b" " * 16_385)
    huge = await client.post(hook.path, content=b"{" * 1_048_576)

    assert at_limit.status_code == 400
    assert (over.status_code, huge.status_code) == (413, 413)
    assert "16384 bytes" in huge.json()["error"]


async def test_a_passphrase_is_a_second_factor_and_is_never_stored(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology, passphrase_hash=hash_passphrase("correct horse battery"))
    await until_known(client, hook)

    missing = await client.post(hook.path, content=alert_body())
    wrong = await client.post(hook.path, content=alert_body(passphrase="wrong horse"))
    right = await client.post(hook.path, content=alert_body(passphrase="correct horse battery"))

    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 202)
    (message,) = await stored(js, topology.intents_stream)
    assert b"correct horse" not in (message.data or b"")
    assert json.loads(OrderIntent.model_validate_json(message.data or b"").raw_body) == {
        "action": "buy",
        "ticker": "BINANCE:BTCUSDT",
        "qty": "0.01",
        "passphrase": "[REDACTED]",
    }


async def test_a_passphrase_stored_before_salting_works_once_wrapped(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    legacy = hashlib.sha256(b"correct horse battery").hexdigest()
    hook = await add_hook(js, topology, passphrase_hash=wrap_sha256(legacy))
    await until_known(client, hook)

    wrong = await client.post(hook.path, content=alert_body(passphrase=legacy))
    right = await client.post(hook.path, content=alert_body(passphrase="correct horse battery"))
    again = await client.post(
        hook.path, content=alert_body(passphrase="correct horse battery", id="2")
    )

    assert (wrong.status_code, right.status_code, again.status_code) == (401, 202, 202)


async def test_guessing_a_passphrase_is_rate_limited_before_any_slow_hash(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    tenant = factories.tenant_record(limits=factories.plan_limits(max_alerts_per_hour=10))
    hook = await add_hook(
        js, topology, tenant=tenant, passphrase_hash=hash_passphrase("correct horse battery")
    )
    await until_known(client, hook)

    codes = [
        (await client.post(hook.path, content=alert_body(passphrase=f"guess {i}"))).status_code
        for i in range(6)
    ]

    assert codes == [401] * 5 + [429]  # the burst of 5, then refused without hashing


async def test_metrics_count_answers_by_outcome(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    hook = await add_hook(js, topology)
    await until_known(client, hook)

    def accepted(text: str) -> float:
        line = next(x for x in text.splitlines() if x.startswith(ACCEPTED_SERIES))
        return float(line.split()[-1])

    before = accepted((await client.get("/metrics")).text)
    await client.post(hook.path, content=alert_body())
    assert accepted((await client.get("/metrics")).text) == before + 1


ACCEPTED_SERIES = 'sparky_ingress_requests_total{outcome="accepted"}'


async def test_the_rate_limit_answers_429_with_retry_after_then_lets_alerts_through_again(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, clock: object
) -> None:
    tenant = factories.tenant_record(limits=factories.plan_limits(max_alerts_per_hour=10))
    hook = await add_hook(js, topology, tenant=tenant)
    await until_known(client, hook)

    codes = [
        (await client.post(hook.path, content=alert_body(id=str(i)))).status_code for i in range(6)
    ]
    limited = await client.post(hook.path, content=alert_body(id="later"))

    assert codes == [202] * 5 + [429]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 360
    assert "10 per hour" in limited.json()["error"]
    clock.advance(360)  # type: ignore[attr-defined]
    assert (await client.post(hook.path, content=alert_body(id="later"))).status_code == 202
    assert (await client.post(hook.path, content=alert_body(id="later2"))).status_code == 429
