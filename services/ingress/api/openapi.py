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


_ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before sending the alert again.",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def _error(description: str, examples: dict[str, str], *, retry: bool = False) -> dict[str, Any]:
    """Return a refusal in the common error shape, with one example per sentence it may carry."""
    documented = {
        name: {"summary": sentence, "value": {"error": sentence, "errors": []}}
        for name, sentence in examples.items()
    }
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ERROR_REF, "examples": documented}},
    }
    if retry:
        answer["headers"] = _RETRY_AFTER
    return answer


def _answer(properties: dict[str, Any], description: str, example: Any) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    media = {"schema": schema, "example": example}
    return {"description": description, "content": {"application/json": media}}


_INVALID = {
    "description": "Not an alert Sparky can act on; `errors` names each problem.",
    "content": {
        "application/json": {
            "schema": _ERROR_REF,
            "examples": {
                "misspelt_field": {
                    "summary": "A field Sparky does not know, with the closest spelling",
                    "value": {
                        "error": "This alert cannot be used (1 problem); nothing was traded.",
                        "errors": [
                            {
                                "field": "stopLos",
                                "message": "'stopLos' is not a field Sparky knows: did you "
                                "mean 'stopLoss'?",
                            }
                        ],
                    },
                },
                "not_json": {
                    "summary": 'A body that starts like JSON but does not parse (`{"action": x}`)',
                    "value": {
                        "error": "This alert cannot be used (1 problem); nothing was traded.",
                        "errors": [
                            {
                                "field": "body",
                                "message": "The message looks like JSON but is not valid JSON: "
                                "Expecting value: line 1 column 12 (char 11).",
                            }
                        ],
                    },
                },
            },
        }
    },
}
_RESPONSES: dict[str, Any] = {
    "202": _answer(
        {"intent_id": {"type": "string", "description": "The stored intent (a ULID)."}},
        "Stored: the alert will be acted on.",
        {"intent_id": "01JDQ6Z8M3N4P5Q6R7S8T9V0WX"},
    ),
    "200": _answer(
        {"duplicate": {"type": "boolean", "const": True}},
        "A resend of an alert already stored (the same `id`, or the same body, within the "
        "duplicate window): not stored again.",
        {"duplicate": True},
    ),
    "400": _INVALID,
    "401": _error(
        "Unknown webhook URL, one replaced by a rotation, or a missing or wrong passphrase.",
        {
            "unknown_url": "This webhook URL is not valid: copy it again from your Sparky "
            "dashboard.",
            "replaced_url": "This webhook URL was replaced by a new one: use the new URL.",
        },
    ),
    "403": _error(
        "Suspended account, disabled webhook, or an address its IP allowlist does not allow.",
        {
            "suspended": "Your Sparky account is suspended: alerts are not traded.",
            "disabled": "This webhook is disabled: enable it in your Sparky dashboard.",
            "not_allowed": "This webhook does not accept alerts from 198.51.100.7 (its IP "
            "allowlist).",
        },
    ),
    "408": _error(
        "The request did not arrive in time (the server's deadlines).",
        {"slow": "The request was not received in time; send it again at once."},
    ),
    "413": _error(
        "The message is larger than ingress accepts (`body_limit_bytes`).",
        {"too_large": "The alert message is larger than 16384 bytes."},
    ),
    "429": _error(
        "More alerts than the plan allows; retry after Retry-After seconds.",
        {
            "rate_limited": "Too many alerts: your plan allows 60 per hour (up to 6 at once). "
            "This alert was not traded."
        },
        retry=True,
    ),
    "503": _error(
        "Not stored (starting up, overloaded, too many requests open to this webhook, or NATS "
        "away); TradingView resends it. Retry-After: 1.",
        {
            "not_stored": "Sparky could not store this alert right now; TradingView will "
            "resend it.",
            "overloaded": "Sparky is overloaded and did not store this alert; TradingView "
            "will resend it.",
        },
        retry=True,
    ),
}
_JSON_EXAMPLES = {
    "market_buy": {
        "summary": "A market buy of 0.01 BTC",
        "value": {"action": "buy", "ticker": "BINANCE:BTCUSDT", "qty": "0.01"},
    },
    "futures_tp_sl": {
        "summary": "A futures long with leverage, take-profit and stop-loss",
        "value": {
            "action": "buy",
            "ticker": "BINANCE:BTCUSDT.P",
            "qty": "0.01",
            "leverage": "5",
            "take_profit": {"percent": 2},
            "stop_loss": {"type": "stop", "percent": 1},
            "id": "entry-2026-12-05T20:00:00Z",
        },
    },
    "close": {
        "summary": "Close the whole position",
        "value": {"action": "close", "ticker": "BINANCE:BTCUSDT.P"},
    },
}
_TEXT_EXAMPLES = {
    "market_buy": {"summary": "A market buy in the text grammar", "value": "buy BTCUSDT 0.01"},
    "limit_with_exits": {
        "summary": "A limit entry with exits (the signal-channel format)",
        "value": "BUY BTCUSDT qty 0.01 entry 60000 tp 62000 sl 59000",
    },
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
                    },
                    "examples": _JSON_EXAMPLES,
                },
                "text/plain": {
                    "schema": {"type": "string", "maxLength": 1000},
                    "examples": _TEXT_EXAMPLES,
                },
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
