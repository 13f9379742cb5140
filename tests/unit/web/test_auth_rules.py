"""The web app's pure rules: passwords, redirects, sealed values, TOTP steps, addresses,
settings refused in production."""

from __future__ import annotations

from datetime import UTC, datetime

import pyotp
import pytest
from pydantic import SecretStr, ValidationError
from starlette.requests import Request

from libs.common.errors import ConfigurationError
from libs.common.sealing import SealedValueError
from services.web.api.auth_common import safe_next
from services.web.auth.addresses import client_address, parse_networks
from services.web.auth.passwords import password_problem
from services.web.auth.totp import matching_step, new_secret
from services.web.config import web_settings
from services.web.crypto import Signer, data_box

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
REAL_KEY = SecretStr("a-real-data-key-of-at-least-32-characters")
REAL_SIGNUP = SecretStr("ssu_a-real-signup-token-from-vault")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 10"),
        ("ada@example.com", "not your email"),
        ("ADA@EXAMPLE.COM ", "not your email"),
        ("ada", "at least 10"),
        ("x" * 257, "at most 256"),
        ("correct horse battery", None),
    ],
)
def test_password_rules(password: str, problem: str | None) -> None:
    found = password_problem(password, "ada@example.com")
    assert (found is None) if problem is None else (problem in (found or ""))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/alerts?status=filled", "/alerts?status=filled"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
    ],
)
def test_only_local_paths_are_followed_after_sign_in(value: str, expected: str) -> None:
    assert safe_next(value) == expected


def test_a_sealed_value_opens_only_with_its_key_and_its_row() -> None:
    box = data_box("k" * 40)
    sealed = box.seal("spk_secret", "api_key:u1")
    assert box.open(sealed, "api_key:u1") == "spk_secret"
    assert b"spk_secret" not in sealed
    with pytest.raises(SealedValueError):
        box.open(sealed, "api_key:u2")
    with pytest.raises(SealedValueError):
        data_box("j" * 40).open(sealed, "api_key:u1")


def test_signatures_depend_on_the_purpose() -> None:
    csrf, other = Signer("k" * 40, "csrf"), Signer("k" * 40, "other")
    assert csrf.verify("session:1", csrf.sign("session:1"))
    assert not csrf.verify("session:2", csrf.sign("session:1"))
    assert not csrf.verify("session:1", other.sign("session:1"))


def test_a_code_is_accepted_one_step_either_side_only() -> None:
    secret = new_secret()
    otp = pyotp.TOTP(secret)
    step = int(NOW.timestamp()) // 30
    assert matching_step(secret, otp.at(NOW), NOW) == step
    assert matching_step(secret, otp.at((step - 1) * 30), NOW) == step - 1
    assert matching_step(secret, otp.at((step + 2) * 30), NOW) is None
    assert matching_step(secret, "12345a", NOW) is None


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_the_client_address_is_read_through_trusted_proxies_only() -> None:
    proxies = parse_networks(["10.0.0.0/8"])
    assert client_address(_request("203.0.113.9", "1.2.3.4"), proxies) == "203.0.113.9"
    assert client_address(_request("10.1.1.1", "6.6.6.6, 198.51.100.7"), proxies) == (
        "198.51.100.7"
    )
    assert client_address(_request("10.1.1.1", "198.51.100.7, 10.2.2.2"), proxies) == (
        "198.51.100.7"
    )


def test_production_refuses_development_secrets_and_insecure_cookies() -> None:
    with pytest.raises((ConfigurationError, ValidationError), match="development default"):
        web_settings(environment="prod", cookie_secure=True)
    with pytest.raises((ConfigurationError, ValidationError), match="COOKIE_SECURE"):
        web_settings(
            environment="prod", data_key=REAL_KEY, signup_token=REAL_SIGNUP, cookie_secure=False
        )
    settings = web_settings(
        environment="prod",
        data_key=REAL_KEY,
        signup_token=REAL_SIGNUP,
        cookie_secure=True,
        migration_database_url="postgresql://migrator@db/sparky",
    )
    assert settings.writer_role == "sparky_web_writer"
    with pytest.raises(ValidationError, match="ssu_"):
        web_settings(signup_token=SecretStr("sop_not-a-signup-token-at-all"))
    with pytest.raises(ValidationError, match="32 characters"):
        web_settings(data_key=SecretStr("too short"))
