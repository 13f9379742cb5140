"""Check an environment (the chart's or Compose's) against a service's real settings class."""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Mapping

import pytest

from libs.common.config import ServiceSettings
from tests.unit.ops.chart import program

# Variables a service's container reads outside its settings class: the operator CLI the
# billing image carries (`sparkyctl`, tools/sparkyctl) finds billing's API through
# SPARKY_BILLING_URL.
CLI_VARIABLES = {"billing": {"SPARKY_BILLING_URL"}}

_FAKE_SECRETS = (
    ("DATABASE_URL", "postgresql://sparky:pw@postgres.example:5432/sparky"),
    ("OPERATOR_TOKEN", "sop_" + "o" * 40),
    ("SIGNUP_TOKEN", "ssu_" + "u" * 40),
    ("DATA_KEY", "k" * 44),
    ("ADMIN_TOKEN", "sop_" + "a" * 40),
    ("NATS_URL", "nats://sparky:pw@nats.example:4222"),
    ("REDIS_URL", "redis://:pw@redis.example:6379/0"),
    ("STRIPE_API_KEY", "sk_test_" + "s" * 24),
    ("WEBHOOK_SECRET", "whsec_" + "w" * 24),
    ("VERIFY_KEY_ROUTER", "router-" + "r" * 40),
    ("VERIFY_KEY_LEDGER", "ledger-" + "l" * 40),
    ("ORDER_SIGNING_KEY", "issuer-" + "i" * 40),
)


def settings_class(service: str) -> type[ServiceSettings]:
    """Return the settings class ``services.<service>.config`` defines (for a component that
    runs another service's code, that service's: accounts reads the executor's settings).
    """
    module = importlib.import_module(f"services.{program(service)}.config")
    found = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, ServiceSettings)
        and cls is not ServiceSettings
        and cls.__module__ == module.__name__
    ]
    assert len(found) == 1, f"services.{service}.config defines {found}"
    return found[0]


def fake_secret(variable: str) -> str:
    """Return a plausible value for a variable the chart reads from a Secret."""
    for marker, value in _FAKE_SECRETS:
        if marker in variable:
            return value
    return "secret-value"


def unknown_variables(service: str, names: set[str]) -> set[str]:
    """Return the SPARKY_* variables that no settings field of ``service`` reads."""
    fields = set(settings_class(service).model_fields)
    own = f"SPARKY_{program(service).upper()}_"
    unknown = set()
    for name in names - CLI_VARIABLES.get(service, set()):
        field = name.removeprefix(own) if name.startswith(own) else name.removeprefix("SPARKY_")
        if field.lower() not in fields:
            unknown.add(name)
    return unknown


def load(monkeypatch: pytest.MonkeyPatch, service: str, env: Mapping[str, str]) -> ServiceSettings:
    """Build ``service``'s settings from exactly ``env`` (no other SPARKY_* variable)."""
    for name in list(os.environ):
        if name.startswith("SPARKY_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return settings_class(service)()
