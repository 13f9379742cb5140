"""Order signing: a signature names its issuer, binds the exact bytes and the subject, and only
its issuer's key makes it; the keys are set per issuer, long, and never development ones in prod."""

from __future__ import annotations

import secrets

import pytest
from pydantic import SecretStr, ValidationError

from libs.common.config import Environment, load_settings
from libs.common.errors import ConfigurationError, MalformedMessageError
from libs.common.signing import (
    DEV_LEDGER_ORDER_KEY,
    DEV_ROUTER_ORDER_KEY,
    SIGNATURE_HEADER,
    CommandSigner,
    CommandVerifier,
    Issuer,
    UntrustedCommandError,
)
from services.executor.config import ExecutorRole, ExecutorSettings
from services.ledger.config import LedgerSettings
from services.router.config import RouterSettings

ROUTER, LEDGER = secrets.token_hex(32), secrets.token_hex(32)
SUBJECT, OTHER_SUBJECT = "sparky.orders.3.alice", "sparky.orders.7.bob"
PAYLOAD = b'{"kind":"place","tenant_id":"alice"}'
VERIFIER = CommandVerifier({Issuer.ROUTER: SecretStr(ROUTER), Issuer.LEDGER: SecretStr(LEDGER)})


def in_prod(**keys: str) -> ExecutorSettings:
    """The executor's settings in production (Vault over TLS) with these verifying keys."""
    fields = {f"order_verify_key_{issuer}": SecretStr(key) for issuer, key in keys.items()}
    return load_settings(
        ExecutorSettings, environment="prod", vault_url="https://vault:8200", **fields
    )


def signed(key: str, issuer: Issuer = Issuer.ROUTER, subject: str = SUBJECT) -> str:
    return CommandSigner(issuer, SecretStr(key)).header(subject, PAYLOAD)[SIGNATURE_HEADER]


def refusal(header: str | None, payload: bytes = PAYLOAD, subject: str = SUBJECT) -> str:
    with pytest.raises(UntrustedCommandError) as refused:
        VERIFIER.issuer_of(subject, payload, header)
    assert isinstance(refused.value, MalformedMessageError)  # dead-lettered at once
    return refused.value.reason


def test_each_issuers_signature_names_it() -> None:
    assert VERIFIER.issuer_of(SUBJECT, PAYLOAD, signed(ROUTER)) is Issuer.ROUTER
    assert VERIFIER.issuer_of(SUBJECT, PAYLOAD, signed(LEDGER, Issuer.LEDGER)) is Issuer.LEDGER
    assert signed(ROUTER).startswith("router:")


def test_a_signature_binds_the_exact_bytes_and_the_subject() -> None:
    assert refusal(signed(ROUTER), payload=PAYLOAD + b" ") == "bad_signature"
    assert refusal(signed(ROUTER), subject=OTHER_SUBJECT) == "bad_signature"
    assert refusal(signed(ROUTER, subject=OTHER_SUBJECT)) == "bad_signature"


def test_only_the_issuers_own_key_makes_its_signature() -> None:
    assert refusal(signed(secrets.token_hex(32))) == "bad_signature"
    assert refusal(signed(LEDGER, Issuer.ROUTER)) == "bad_signature"  # the ledger posing


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("deadbeef", "unknown_issuer"),
        ("billing:" + "0" * 64, "unknown_issuer"),
        ("router:", "bad_signature"),
        ("router:zz\u00e9", "bad_signature"),
    ],
)
def test_a_missing_or_malformed_signature_is_refused(header: str | None, reason: str) -> None:
    assert refusal(header) == reason


def test_during_a_rotation_the_old_and_the_new_key_verify() -> None:
    old, new = secrets.token_hex(32), secrets.token_hex(32)
    rotating = CommandVerifier({Issuer.ROUTER: SecretStr(f"{new}, {old}")})
    for key in (old, new):
        assert rotating.issuer_of(SUBJECT, PAYLOAD, signed(key)) is Issuer.ROUTER
    with pytest.raises(ValueError, match="one key"):
        CommandSigner(Issuer.ROUTER, SecretStr(f"{new},{old}"))


def test_a_short_key_is_refused_without_showing_it() -> None:
    with pytest.raises(ValidationError) as refused:
        RouterSettings(order_signing_key=SecretStr("short-secret-key"))
    assert "at least 32 characters" in str(refused.value)
    assert "short-secret-key" not in str(refused.value)
    with pytest.raises(ValidationError):
        ExecutorSettings(order_verify_key_ledger=SecretStr(f"{LEDGER},tiny"))


def test_production_refuses_the_development_keys() -> None:
    with pytest.raises(ConfigurationError, match="order_signing_key"):
        load_settings(RouterSettings, environment="prod")
    with pytest.raises(ConfigurationError, match="order_signing_key"):
        load_settings(LedgerSettings, environment="prod")
    with pytest.raises(ConfigurationError, match="development"):
        in_prod(ledger=LEDGER)
    with pytest.raises(ConfigurationError, match="development"):
        in_prod(router=f"{ROUTER},{DEV_ROUTER_ORDER_KEY}", ledger=LEDGER)
    settings = in_prod(router=ROUTER, ledger=LEDGER)
    assert ROUTER not in repr(settings)
    assert LEDGER not in repr(settings)
    assert DEV_LEDGER_ORDER_KEY not in repr(LedgerSettings())


def test_the_ledger_and_the_router_never_share_a_verifying_key() -> None:
    with pytest.raises(ConfigurationError, match="share a key"):
        ExecutorSettings(
            order_verify_key_router=SecretStr(f"{ROUTER},{LEDGER}"),
            order_verify_key_ledger=SecretStr(LEDGER),
        )


def test_the_accounts_role_needs_no_order_keys_in_production() -> None:
    """The exchange-accounts API verifies no commands: its pods hold no order keys (the chart
    gives them none), so their absence must not stop it in production."""
    settings = ExecutorSettings(
        environment=Environment.PROD,
        role=ExecutorRole.ACCOUNTS,
        vault_url="https://vault.example:8200",
    )
    assert settings.role is ExecutorRole.ACCOUNTS
    with pytest.raises(ConfigurationError, match="development default"):
        ExecutorSettings(
            environment=Environment.PROD,
            role=ExecutorRole.TRADING,
            vault_url="https://vault.example:8200",
        )
