"""Examples of the trade-settings API, shown in its OpenAPI document (docs/api/router.json).

Data only, used by the routes' ``responses=`` and ``openapi_extra=``: the models they show
are the domain's (`trade_settings`, `settings_records`), which stay free of documentation.
"""

from __future__ import annotations

from typing import Any

AT = "2026-12-05T20:00:00Z"
KEY_ID = "01JEA3K7A1B2C3D4E5F6G7H8J9"
LAYER: dict[str, Any] = {
    "enabled": True,
    "default_account": "main",
    "quantity": "50",
    "quantity_type": "quote",
    "max_order_quote": "500",
    "directions": "long_only",
    "blocked_symbols": ["DOGEUSDT"],
    "take_profit_percent": "2",
    "stop_loss_percent": "1",
    "trading_windows": [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00:00", "end": "20:00:00"}
    ],
}
STORED_LAYER: dict[str, Any] = {
    "scope": "account",
    "account_label": "main",
    "symbol": None,
    "settings": LAYER,
    "version": 3,
    "updated_at": AT,
    "updated_by": KEY_ID,
}
CHANGE: dict[str, Any] = {
    "id": 118,
    "scope": "account",
    "account_label": "main",
    "symbol": None,
    "version": 3,
    "changed_at": AT,
    "changed_by": KEY_ID,
    "old": {**LAYER, "max_order_quote": "250"},
    "new": LAYER,
}
EFFECTIVE: dict[str, Any] = {
    "account": "main",
    "symbol": "BTCUSDT",
    "at": None,
    "settings": {
        "enabled": True,
        "disabled_by": None,
        "default_account": "main",
        "quantity": "50",
        "quantity_type": "quote",
        "max_order_quote": "500",
        "directions": "long_only",
        "opposite_signal": "close_only",
        "blocked_symbols": ["DOGEUSDT"],
        "take_profit_percent": "2",
        "stop_loss_percent": "1",
        "max_signal_age_s": 60,
        "position_drift": "report",
        "paused_strategies": [],
    },
    "layers": ["tenant", "account"],
}


def answer(example: Any) -> dict[int | str, dict[str, Any]]:
    """Return ``responses=`` showing ``example`` as the 200 answer."""
    return {200: {"content": {"application/json": {"example": example}}}}


LAYER_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {
            "application/json": {
                "examples": {
                    "quote_sized_long_only": {
                        "summary": "50 USDT an order, long only, weekdays, with exits",
                        "value": LAYER,
                    },
                    "kill_switch": {"summary": "Stop trading here", "value": {"enabled": False}},
                }
            }
        }
    }
}
"""``openapi_extra=`` of a PUT of a settings layer: examples of its body."""
