"""Billing's settings refuse development secrets in production and read prices from JSON."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from libs.common.config import load_settings
from libs.common.errors import ConfigurationError
from services.billing.config import DEV_SIGNUP_TOKEN, BillingSettings

REAL = SecretStr("sop_a-real-operator-token-from-vault")


def test_production_refuses_the_development_operator_token() -> None:
    with pytest.raises((ConfigurationError, ValidationError), match="operator_token"):
        load_settings(BillingSettings, environment="prod")
    assert (
        load_settings(BillingSettings, environment="prod", operator_token=REAL).environment
        == "prod"
    )


def test_an_operator_token_must_be_recognisable_as_one() -> None:
    with pytest.raises(ValidationError, match="must start with 'sop_'"):
        load_settings(
            BillingSettings, operator_token=SecretStr("hunter2-but-much-longer-than-that")
        )


def test_prices_map_to_plans_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARKY_BILLING_STRIPE_PRICES", '{"price_b": "pro", "price_a": "pro"}')
    settings = load_settings(BillingSettings)
    assert settings.stripe_prices == {"price_b": "pro", "price_a": "pro"}
    assert settings.price_for("pro") == "price_a"
    assert settings.price_for("enterprise") is None


def test_defaults_fit_a_local_run() -> None:
    settings = load_settings(BillingSettings)
    assert (settings.http_port, settings.database_schema) == (8101, "billing")
    assert settings.public_base_url == "http://127.0.0.1:8102"


def test_sign_up_is_open_in_development_and_closed_in_production_without_a_token() -> None:
    assert load_settings(BillingSettings).signup_token == SecretStr(DEV_SIGNUP_TOKEN)
    prod = load_settings(BillingSettings, environment="prod", operator_token=REAL)
    assert prod.signup_token is None
    with pytest.raises((ConfigurationError, ValidationError), match="signup_token"):
        load_settings(
            BillingSettings,
            environment="prod",
            operator_token=REAL,
            signup_token=SecretStr(DEV_SIGNUP_TOKEN),
        )


def test_a_sign_up_token_must_be_recognisable_as_one() -> None:
    with pytest.raises(ValidationError, match="must start with 'ssu_'"):
        load_settings(BillingSettings, signup_token=SecretStr("sop_looks-like-an-operator-one"))
