"""Secrets look like Sparky's, listings show 8 characters, allowlists are explained."""

from __future__ import annotations

from datetime import timedelta

import pytest

from libs.common.redaction import redact
from services.billing.domain.credentials import (
    CredentialState,
    new_api_key,
    new_webhook_token,
    normalise_allowlist,
    passphrase_hash,
    shown_prefix,
    state_of,
)
from services.billing.errors import InvalidRequestError
from tests import factories


def test_issued_secrets_carry_their_prefix_and_are_hidden_from_logs() -> None:
    token, key = new_webhook_token(), new_api_key()
    assert token.startswith("whk_")
    assert len(token) >= 4 + 43
    assert key.startswith("spk_")
    assert len(key) >= 4 + 43
    assert new_webhook_token() != token
    assert token not in redact(f"created {token} and {key}")
    assert key not in redact(f"created {token} and {key}")


def test_a_listing_shows_only_the_first_eight_characters() -> None:
    assert shown_prefix("whk_abcdefghijklmnop") == "whk_abcd"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (["TradingView"], ("tradingview",)),
        (["52.89.214.238"], ("52.89.214.238/32",)),
        ([" 10.0.0.0/8 ", "10.0.0.0/8"], ("10.0.0.0/8",)),
        (["2001:db8::/32"], ("2001:db8::/32",)),
        ([], ()),
    ],
)
def test_allowlists_are_kept_as_canonical_networks(given: list[str], kept: tuple[str, ...]) -> None:
    assert normalise_allowlist(given) == kept


@pytest.mark.parametrize(
    ("entry", "explanation"),
    [
        (
            "10.0.0.1/24",
            "'10.0.0.1/24' has address bits set after the /24 prefix; did you mean 10.0.0.0/24?",
        ),
        ("office", "'office' is not an IP address or network: write one like 52.89.214.238"),
        ("300.1.1.1", "'300.1.1.1' is not an IP address or network"),
    ],
)
def test_a_bad_allowlist_entry_is_explained(entry: str, explanation: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        normalise_allowlist([entry])
    assert caught.value.message.startswith(explanation)


def test_an_allowlist_has_a_size_limit() -> None:
    with pytest.raises(InvalidRequestError, match="at most 50 entries"):
        normalise_allowlist([f"10.0.0.{i}" for i in range(51)])


async def test_a_short_passphrase_is_refused_and_none_means_none() -> None:
    assert await passphrase_hash(None) is None
    assert await passphrase_hash("long enough") is not None
    with pytest.raises(InvalidRequestError, match="at least 8"):
        await passphrase_hash("short")


def test_a_credential_state_follows_revocation_and_expiry() -> None:
    now = factories.T0
    assert state_of(None, None, now) is CredentialState.ACTIVE
    assert state_of(None, now + timedelta(seconds=1), now) is CredentialState.EXPIRING
    assert state_of(None, now, now) is CredentialState.EXPIRED
    assert state_of(now, None, now) is CredentialState.REVOKED
