"""Ingress's published contract: ``POST /webhooks/tv/{token}`` as an OpenAPI document.

The route reads its request itself (a plain Starlette route, no FastAPI validation on the hot
path), so its document is written here rather than derived; `tests/e2e/test_api_fuzz.py`
holds the server to it. Every refusal is the common error shape of `libs.common.api`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from libs.common.api import ERROR_SCHEMA, add_error_schemas
from services.ingress.domain.names import Names
from services.ingress.domain.normalise import (
    ACTIONS,
    MARKET_POSITIONS,
    ORDER_TYPES,
    QUANTITY_TYPES,
    SENTIMENTS,
)
from services.ingress.domain.parsing import ALIASES
from services.ingress.domain.targets import STOP_LOSS, STOP_TYPES, TAKE_PROFIT
from services.ingress.domain.traderspost import RISK_SIZED

_TEXT = {"type": "string", "maxLength": 500}
_NUMBER = {"oneOf": [{"type": "number"}, {"type": "string", "maxLength": 44}]}
_PRICE_OR_PERCENT = {
    "oneOf": [{"type": "number"}, {"type": "string", "maxLength": 45}],
    "description": "A price, or a percentage from the entry's fill price (`2%`).",
}


def _choice(names: Iterable[str]) -> dict[str, Any]:
    return {"type": "string", "enum": sorted(names), "description": "Case is ignored."}


def _target_object(names: Names, description: str, **extra: Any) -> dict[str, Any]:
    properties = dict.fromkeys(names.spellings, _NUMBER) | extra
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "description": description,
    }


_TAKE_PROFIT = {
    "oneOf": [
        *_PRICE_OR_PERCENT["oneOf"],
        _target_object(TAKE_PROFIT, "One of limit_price, percent or amount (from the fill)."),
    ],
    "description": _PRICE_OR_PERCENT["description"],
}
_STOP_LOSS = {
    "oneOf": [
        *_PRICE_OR_PERCENT["oneOf"],
        _target_object(
            STOP_LOSS,
            "type stop (default): one of stop_price, percent, amount; stop_limit: also "
            "limit_price; trailing_stop: trail_percent or trail_amount.",
            type=_choice(STOP_TYPES),
        ),
    ],
    "description": _PRICE_OR_PERCENT["description"],
}
_IGNORED = {"description": "Accepted and ignored (TradersPost's templates carry it)."}

_FIELDS: dict[str, Any] = {
    "action": _choice(ACTIONS),
    "symbol": {"type": "string", "maxLength": 200, "description": "BINANCE:BTCUSDT.P, BTC/USDT…"},
    "account": {"type": "string", "maxLength": 64},
    "quantity": _NUMBER,
    "quantity_type": _choice([*QUANTITY_TYPES, *RISK_SIZED]),
    "order_type": _choice(ORDER_TYPES),
    "price": _NUMBER,
    "entry": {**_NUMBER, "description": "A limit entry at this price."},
    "take_profit": _TAKE_PROFIT,
    "take_profit_percent": _NUMBER,
    "stop_loss": _STOP_LOSS,
    "stop_loss_percent": _NUMBER,
    "trailing_stop": {**_NUMBER, "description": "`1%`, or a distance in the quote currency."},
    "leverage": _NUMBER,
    "position_size": _NUMBER,
    "market_position": _choice(MARKET_POSITIONS),
    "sentiment": _choice(SENTIMENTS),
    "signal_price": _NUMBER,
    "client_order_id": {"type": "string", "maxLength": 36, "description": "cancel only."},
    "id": {"type": "string", "maxLength": 128},
    "strategy": _TEXT,
    "comment": _TEXT,
    "time": {"oneOf": [{"type": "string"}, {"type": "number"}]},
    "interval": _IGNORED,
    "extras": _IGNORED,
    "passphrase": {"type": "string", "maxLength": 256},
}
_ALIASED = {
    alias: {**_FIELDS[name], "description": f"Alias of {name}."} for alias, name in ALIASES.items()
}


def _error(description: str, *, retry: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}
        },
    }
    if retry:
        answer["headers"] = {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}}
    return answer


def _answer(properties: dict[str, Any], description: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_RESPONSES: dict[str, Any] = {
    "202": _answer({"intent_id": {"type": "string"}}, "Stored: the alert will be acted on."),
    "200": _answer({"duplicate": {"type": "boolean"}}, "A resend of an alert already stored."),
    "400": _error("Not an alert Sparky can act on; `errors` names each problem."),
    "401": _error("Unknown webhook URL (or a wrong passphrase)."),
    "403": _error("Suspended account, disabled webhook, or an address not allowed."),
    "408": _error("The request did not arrive in time."),
    "413": _error("The message is larger than ingress accepts."),
    "429": _error("More alerts than the plan allows; retry after Retry-After.", retry=True),
    "503": _error("Not stored (overloaded, starting up, or NATS away); resent.", retry=True),
}


def ingress_openapi(title: str, version: str) -> dict[str, Any]:
    """Return the OpenAPI document of the webhook."""
    schemas: dict[str, Any] = {}
    add_error_schemas(schemas)
    operation = {
        "operationId": "receive_alert",
        "summary": "Receive one TradingView alert",
        "description": (
            "The body is read whatever its Content-Type: a JSON object of the fields below, "
            "or a one-line text command (`buy BTCUSDT 0.01`). See docs/alerts.md."
        ),
        "parameters": [
            {
                "name": "token",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,128}$"},
                "description": "The webhook token (whk_…), secret.",
            }
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": _FIELDS | _ALIASED,
                        "additionalProperties": False,
                    }
                },
                "text/plain": {"schema": {"type": "string", "maxLength": 1000}},
            },
        },
        "responses": _RESPONSES,
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": {"/webhooks/tv/{token}": {"post": operation}},
        "components": {"schemas": schemas},
    }
