"""Examples of billing's answers, shown in its OpenAPI document (docs/api/billing.json).

Data only: the answer models refer to these in their ``model_config``. The secrets here are
made up, in the shapes billing issues (``whk_…`` webhook tokens, ``spk_…`` API keys).
"""

from __future__ import annotations

from pydantic.config import JsonDict

AT = "2026-12-05T20:00:00Z"
TENANT_ID = "01JEA3K5X7Z9B1C3D5E7F9G1H3"
WEBHOOK_ID = "01JEA3K6Q2R4S6T8V0W2X4Y6Z8"
TOKEN = "whk_3q2FzY8c1Xo0b7Lr5N9tKp4JvW6mHs2AeD8gUqRiTyE"  # noqa: S105 - made up
API_KEY = "spk_7Hd2kQ9xV3bN6mC1zL8pR4tY0wE5aS2fG7hJ3uI9oPq"
LIMITS: JsonDict = {
    "live_trading": True,
    "max_exchange_accounts": 3,
    "max_webhooks": 10,
    "max_alerts_per_hour": 600,
    "max_orders_per_day": 2000,
    "max_leverage": 20,
}
TENANT: JsonDict = {
    "tenant_id": TENANT_ID,
    "name": "Ada's trading desk",
    "status": "active",
    "plan": "pro",
    "plan_in_force": "pro",
    "limits": LIMITS,
    "overrides": {},
    "payment_state": "ok",
    "grace_ends_at": None,
    "subscription_status": "active",
    "created_at": AT,
    "updated_at": AT,
    "deleted_at": None,
}
WEBHOOK: JsonDict = {
    "webhook_id": WEBHOOK_ID,
    "label": "btc-trend",
    "allowed_ips": ["tradingview"],
    "has_passphrase": True,
    "state": "active",
    "created_at": AT,
    "revoked_at": None,
    "tokens": [{"prefix": TOKEN[:8], "state": "active", "created_at": AT, "expires_at": None}],
}
WEBHOOK_URL = f"https://hooks.example.com/webhooks/tv/{TOKEN}"
WEBHOOK_CREATED: JsonDict = {"webhook": WEBHOOK, "token": TOKEN, "url": WEBHOOK_URL}
API_KEY_VIEW: JsonDict = {
    "key_id": "01JEA3K7A1B2C3D4E5F6G7H8J9",
    "label": "default",
    "prefix": API_KEY[:8],
    "state": "active",
    "created_at": AT,
    "expires_at": None,
    "revoked_at": None,
}
API_KEY_CREATED: JsonDict = {"api_key": API_KEY_VIEW, "key": API_KEY}
TENANT_CREATED: JsonDict = {
    "tenant": TENANT,
    "webhook": WEBHOOK_CREATED,
    "api_key": API_KEY_CREATED,
}
TENANT_PAGE: JsonDict = {"tenants": [TENANT], "next_after": TENANT_ID}
PLAN: JsonDict = {"name": "pro", "limits": LIMITS}
CHECKOUT: JsonDict = {"url": "https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4"}
SIGNUP_CREATED: JsonDict = {
    "tenant_id": TENANT_ID,
    "api_key": API_KEY,
    "webhook": {"id": WEBHOOK_ID, "token": TOKEN, "url": WEBHOOK_URL},
}
OPERATOR: JsonDict = {
    "operator_id": "01JEA3K8B2C4D6E8F0G2H4J6K8",
    "name": "ada.lovelace",
    "bootstrap": False,
    "prefix": "spo_9Fk2",
    "state": "active",
    "created_by": "bootstrap",
    "created_at": AT,
    "revoked_by": None,
    "revoked_at": None,
}
OPERATOR_CREATED: JsonDict = {
    "operator": OPERATOR,
    "token": "spo_9Fk2mW4xT8qL1vB6nZ3cR7yH0jD5sA2eG9pU4kF1iN",
}
AUDIT_PAGE: JsonDict = {
    "entries": [
        {
            "audit_id": 1207,
            "at": AT,
            "operator_id": OPERATOR["operator_id"],
            "operator": "ada.lovelace",
            "action": "suspend_tenant",
            "method": "POST",
            "request_id": "01JEA3K9C3D5E7F9G1H3J5K7M9",
            "status": 200,
            "outcome": "succeeded",
            "target": TENANT_ID,
            "tenant_id": TENANT_ID,
        }
    ],
    "next_after": 1207,
}
USAGE: JsonDict = {
    "tenant_id": TENANT_ID,
    "period": "day",
    "period_start": "2026-12-05",
    "alerts_accepted": 42,
    "alerts_rejected": 3,
    "alerts_rejected_by_reason": {"invalid_alert": 2, "rate_limited": 1},
    "orders_placed": 40,
    "orders_filled": 38,
}
RECEIPT: JsonDict = {
    "received": True,
    "duplicate": False,
    "outcome": "ignored: billing does not act on customer.created",
}
