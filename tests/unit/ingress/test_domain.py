"""Who may deliver alerts, the dedup key, and what an intent stores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from libs.common.ids import new_id
from libs.common.messages import IntentAccepted, OrderIntent
from libs.common.messages.commands import RAW_BODY_CAP
from libs.common.records import (
    CredentialStatus,
    TenantRecord,
    TenantStatus,
    WebhookTokenRecord,
    secret_digest,
)
from services.ingress.domain.normalise import to_alert
from services.ingress.domain.parsing import parse_body
from services.ingress.domain.webhook import (
    Webhook,
    WebhookGate,
    accepted_event,
    build_intent,
    check_source,
    dedup_key,
)
from services.ingress.errors import ForbiddenError, UnauthorizedError, UnavailableError
from tests import factories
from tests.helpers.lookups import DictLookup

TOKEN = "whk_" + "t" * 43
NOW = factories.T0


@dataclass
class World:
    tokens: DictLookup[WebhookTokenRecord]
    tenants: DictLookup[TenantRecord]
    record: WebhookTokenRecord
    tenant: TenantRecord

    @property
    def gate(self) -> WebhookGate:
        return WebhookGate(self.tokens, self.tenants)


@pytest.fixture
def world() -> World:
    tenant = factories.tenant_record()
    record = factories.webhook_record(tenant.tenant_id)
    return World(
        DictLookup({secret_digest(TOKEN): record}),
        DictLookup({tenant.tenant_id: tenant}),
        record,
        tenant,
    )


def test_a_known_token_of_an_active_tenant_authenticates(world: World) -> None:
    assert world.gate.authenticate(TOKEN, NOW) == Webhook(world.record, world.tenant)


def test_while_the_copies_load_every_call_gets_503(world: World) -> None:
    world.tenants.ready = False

    with pytest.raises(UnavailableError):
        world.gate.authenticate(TOKEN, NOW)


def test_while_a_copy_is_out_of_touch_with_nats_every_call_gets_503(world: World) -> None:
    world.tokens.in_touch = False

    with pytest.raises(UnavailableError, match="cannot confirm this webhook URL") as refused:
        world.gate.authenticate(TOKEN, NOW)
    assert refused.value.headers["Retry-After"] == "1"


@pytest.mark.parametrize("token", ["whk_unknown_unknown_unknown", "short", "x" * 500, "a b c"])
def test_an_unknown_or_malformed_token_is_401(world: World, token: str) -> None:
    with pytest.raises(UnauthorizedError, match="not valid"):
        world.gate.authenticate(token, NOW)


def test_a_disabled_webhook_is_403(world: World) -> None:
    disabled = world.record.model_copy(update={"status": CredentialStatus.DISABLED})
    world.tokens.data[secret_digest(TOKEN)] = disabled

    with pytest.raises(ForbiddenError, match="disabled"):
        world.gate.authenticate(TOKEN, NOW)


def test_a_rotated_token_works_until_its_grace_period_ends_then_is_401(world: World) -> None:
    rotated = world.record.model_copy(update={"expires_at": NOW + timedelta(seconds=60)})
    world.tokens.data[secret_digest(TOKEN)] = rotated

    assert world.gate.authenticate(TOKEN, NOW + timedelta(seconds=59))
    with pytest.raises(UnauthorizedError, match="replaced"):
        world.gate.authenticate(TOKEN, NOW + timedelta(seconds=60))


def test_a_suspended_tenant_is_403_and_a_vanished_one_401(world: World) -> None:
    suspended = world.tenant.model_copy(update={"status": TenantStatus.SUSPENDED})
    world.tenants.data[world.tenant.tenant_id] = suspended
    with pytest.raises(ForbiddenError, match="suspended"):
        world.gate.authenticate(TOKEN, NOW)

    del world.tenants.data[world.tenant.tenant_id]
    with pytest.raises(UnauthorizedError):
        world.gate.authenticate(TOKEN, NOW)


def test_an_allowlisted_webhook_refuses_other_addresses(world: World) -> None:
    hook = Webhook(world.record.model_copy(update={"allowed_ips": ("tradingview",)}), world.tenant)

    check_source(hook, "52.89.214.238")
    with pytest.raises(ForbiddenError, match=r"203\.0\.113\.9"):
        check_source(hook, "203.0.113.9")


def test_the_dedup_key_is_scoped_to_the_webhook() -> None:
    first, second = new_id(), new_id()

    assert dedup_key(first, "1", b"a") == dedup_key(first, "1", b"b")
    assert dedup_key(first, "1", b"a") != dedup_key(second, "1", b"a")
    assert dedup_key(first, None, b"a") != dedup_key(first, None, b"b")
    assert dedup_key(first, None, b"1") != dedup_key(first, "1", b"1")
    assert len(dedup_key(first, None, b"a")) == 64


def intent_of(world: World, body: bytes) -> OrderIntent:
    parsed = parse_body(body)
    hook = Webhook(world.record, world.tenant)
    alert = to_alert(parsed.fields)
    return build_intent(hook, alert, parsed, body, source_ip="52.89.214.238", received_at=NOW)


def test_an_intent_carries_its_tenant_webhook_times_and_dedup_key(world: World) -> None:
    body = b'{"action": "buy", "ticker": "BTCUSDT", "qty": "1", "id": "bar-7"}'
    intent = intent_of(world, body)

    assert (intent.tenant_id, intent.webhook_id) == (
        world.tenant.tenant_id,
        world.record.webhook_id,
    )
    assert intent.correlation_id == intent.causation_id == intent.intent_id
    assert intent.received_at == intent.occurred_at == NOW
    assert intent.dedup_key == dedup_key(world.record.webhook_id, "bar-7", body)
    assert intent.raw_body == body.decode()


@pytest.mark.parametrize(
    "body",
    [
        b'{"action": "buy", "ticker": "BTCUSDT", "passphrase": "open sesame 42"}',
        b'{"passphrase":"open sesame 42","action":"buy","ticker":"BTCUSDT"}',
        b'{"action": "buy", "ticker": "BTCUSDT", "PassPhrase" : "open sesame 42"}',
        b'{"action": "buy", "ticker": "BTCUSDT", "pass\\u0070hrase": "open sesame 42"}',
        b'{"action": "buy", "ticker": "BTCUSDT", "passphrase": "open \\u0073esame 42"}',
        b'{"action": "buy", "ticker": "BTCUSDT", "comment": "open sesame 42", '
        b'"passphrase": "open sesame 42"}',
        b"buy BTCUSDT passphrase='open sesame 42'",
        b"buy BTCUSDT 1 passphrase=opensesame42 comment=opensesame42",
    ],
)
def test_the_stored_body_never_holds_the_passphrase(world: World, body: bytes) -> None:
    raw = intent_of(world, body).raw_body

    assert "sesame" not in raw
    assert "opensesame42" not in raw
    assert "BTCUSDT" in raw


def test_the_stored_body_is_capped(world: World) -> None:
    body = b'{"action": "buy", "ticker": "BTCUSDT", "comment": "' + b"x" * 500 + b'"}'
    padded = body[:-1] + b" " * 5000 + b"}"

    assert len(intent_of(world, padded).raw_body) == RAW_BODY_CAP


def test_the_accepted_event_follows_its_intent(world: World) -> None:
    intent = intent_of(world, b"sell BINANCE:ETHUSDT 1")
    event = accepted_event(intent, NOW + timedelta(seconds=1))

    assert isinstance(event, IntentAccepted)
    assert (event.intent_id, event.correlation_id, event.causation_id) == (
        intent.intent_id,
        intent.intent_id,
        intent.message_id,
    )
    assert (event.symbol, event.action.value) == ("BINANCE:ETHUSDT", "sell")
