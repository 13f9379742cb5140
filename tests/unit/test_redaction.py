from __future__ import annotations

import secrets
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.common.redaction import (
    API_KEY_PREFIX,
    OPERATOR_TOKEN_PREFIX,
    REDACTED,
    WEBHOOK_TOKEN_PREFIX,
    Redactor,
    redact,
    redact_mapping,
)

pytestmark = pytest.mark.unit

WEBHOOK_TOKEN = "whk_" + "Q7rT2mXk9LpZ4vBn8sYc"


def test_webhook_url_keeps_its_path_but_loses_the_token() -> None:
    line = f"POST https://sparky.example/webhooks/tv/{WEBHOOK_TOKEN}?v=2 HTTP/1.1"

    assert redact(line) == f"POST https://sparky.example/webhooks/tv/{REDACTED}?v=2 HTTP/1.1"


def test_webhook_url_with_a_token_of_any_shape_is_redacted() -> None:
    assert redact('"/webhooks/tv/legacy-token-123"') == f'"/webhooks/tv/{REDACTED}"'


def test_webhook_route_template_stays_readable() -> None:
    assert redact("POST /webhooks/tv/{token}") == "POST /webhooks/tv/{token}"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "Basic"])
def test_authorization_credentials_are_redacted_but_the_scheme_is_kept(scheme: str) -> None:
    assert redact(f"sent {scheme} dXNlcjpwYXNz== upstream") == f"sent {scheme} {REDACTED} upstream"


def test_header_line_keeps_the_scheme_and_hides_the_credential() -> None:
    assert redact("Authorization: Bearer eyJhbGciOi.x.y") == f"Authorization: Bearer {REDACTED}"


def test_the_basic_plan_in_billing_logs_is_not_mistaken_for_a_credential() -> None:
    assert (
        redact("tenant moved from the basic plan to pro")
        == "tenant moved from the basic plan to pro"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"api_key": "abc\\"def", "qty": 1}', f'{{"api_key": "{REDACTED}", "qty": 1}}'),
        ("GET /orders?token=abc123&symbol=BTC", f"GET /orders?token={REDACTED}&symbol=BTC"),
        ("X-MBX-APIKEY: vmPUZE6mv9SD5VNH", f"X-MBX-APIKEY: {REDACTED}"),
        ("{'exchange_secret': 'a b c'}", f"{{'exchange_secret': '{REDACTED}'}}"),
        ("Password = hunter2, retrying", f"Password = {REDACTED}, retrying"),
        ("passphrase:okx-pass signature=9f8e", f"passphrase:{REDACTED} signature={REDACTED}"),
        ("private_key=-----BEGIN", f"private_key={REDACTED}"),
    ],
)
def test_values_of_sensitive_keys_are_redacted_and_keys_kept(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_ordinary_key_value_pairs_are_left_alone() -> None:
    text = 'symbol=BTC/USDT qty: 0.5 {"side": "buy", "client_order_id": "01HX"}'

    assert redact(text) == text


@pytest.mark.parametrize("prefix", [API_KEY_PREFIX, WEBHOOK_TOKEN_PREFIX, OPERATOR_TOKEN_PREFIX])
def test_sparky_issued_secrets_are_redacted_wherever_they_appear(prefix: str) -> None:
    issued = prefix + secrets.token_urlsafe(24)

    assert redact(f"tenant pasted ({issued}) in a note") == f"tenant pasted ({REDACTED}) in a note"


def test_short_strings_with_a_sparky_prefix_are_not_secrets() -> None:
    assert redact("the spk_ prefix marks api keys, e.g. spk_example") == (
        "the spk_ prefix marks api keys, e.g. spk_example"
    )


def test_registered_exchange_key_is_scrubbed_anywhere() -> None:
    redactor = Redactor()
    key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy"
    redactor.register(key)

    text = f"ccxt error: {{'apiKey': ...}} url=https://api.binance.com/x?k={key}#{key}suffix"

    assert key not in redactor.redact(text)
    assert redactor.redact(f"prefix{key}suffix") == f"prefix{REDACTED}suffix"


def test_longer_registered_secret_wins_so_no_tail_leaks() -> None:
    redactor = Redactor()
    redactor.register("abcdefgh")
    redactor.register("abcdefgh-and-more")

    assert redactor.redact("x abcdefgh-and-more y") == f"x {REDACTED} y"


def test_literals_shorter_than_eight_characters_are_ignored() -> None:
    redactor = Redactor()
    redactor.register("admin")

    assert redactor.redact("admin logged in") == "admin logged in"


def test_forgotten_secret_is_shown_again() -> None:
    redactor = Redactor()
    redactor.register("rotated-key-0001")
    redactor.forget("rotated-key-0001")

    assert redactor.redact("rotated-key-0001") == "rotated-key-0001"


def test_every_one_of_thousands_of_registered_secrets_is_found() -> None:
    redactor = Redactor()
    keys = [secrets.token_hex(16) for _ in range(3000)]
    for key in keys:
        redactor.register(key)

    text = " | ".join(keys[::97])

    assert set(redactor.redact(text).split(" | ")) == {REDACTED}


def test_secrets_registered_from_many_threads_are_all_redacted() -> None:
    redactor = Redactor()
    keys = [f"thread-{n}-{secrets.token_hex(8)}" for n in range(16)]

    def register_and_redact(key: str) -> None:
        redactor.register(key)
        redactor.redact(key)

    threads = [threading.Thread(target=register_and_redact, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert redactor.redact(" ".join(keys)) == " ".join([REDACTED] * len(keys))


def test_mapping_hides_sensitive_keys_and_secrets_in_strings_at_any_depth() -> None:
    data = {
        "tenant": "t-1",
        "request": {"headers": {"Authorization": "Bearer x", "Accept": "json"}},
        "urls": [f"/webhooks/tv/{WEBHOOK_TOKEN}", ("ok",)],
        "credentials": {"key": "k", "secret": "s"},
        "refresh_token": None,
    }

    assert redact_mapping(data) == {
        "tenant": "t-1",
        "request": {"headers": {"Authorization": REDACTED, "Accept": "json"}},
        "urls": [f"/webhooks/tv/{REDACTED}", ("ok",)],
        "credentials": {"key": "k", "secret": REDACTED},
        "refresh_token": None,
    }


def test_redacting_a_mapping_leaves_the_original_untouched() -> None:
    data = {"nested": {"password": "hunter2"}}

    redact_mapping(data)

    assert data == {"nested": {"password": "hunter2"}}


@given(st.text())
def test_redacting_twice_changes_nothing(text: str) -> None:
    once = Redactor().redact(text)

    assert Redactor().redact(once) == once
