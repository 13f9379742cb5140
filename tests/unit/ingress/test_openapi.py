"""Ingress's published contract names every field an alert may carry, and every answer."""

from __future__ import annotations

from services.ingress.api.openapi import ingress_openapi
from services.ingress.domain.parsing import ALIASES, FIELDS


def test_every_alert_field_and_alias_is_in_the_contract() -> None:
    operation = ingress_openapi("Sparky ingress", "1")["paths"]["/webhooks/tv/{token}"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == set(FIELDS) | set(ALIASES)
    assert schema["additionalProperties"] is False  # unknown fields are refused (400)


def test_every_refusal_is_documented_in_the_common_error_shape() -> None:
    document = ingress_openapi("Sparky ingress", "1")
    responses = document["paths"]["/webhooks/tv/{token}"]["post"]["responses"]
    assert set(responses) == {"200", "202", "400", "401", "403", "408", "413", "429", "503"}
    assert "ErrorBody" in document["components"]["schemas"]
