"""Builders of valid messages and records for tests; override any field by keyword."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from libs.common.ids import TenantId, new_id, new_intent_id
from libs.common.messages import (
    AccountMode,
    Action,
    Alert,
    AlertRefused,
    DriftSource,
    Fill,
    FundingPaid,
    GraceEnding,
    Instrument,
    IntentAccepted,
    IntentRejected,
    KillSwitchChanged,
    OrderCanceled,
    OrderFailed,
    OrderFilled,
    OrderIntent,
    OrderRejected,
    OrderRole,
    OrderSubmitted,
    OrderType,
    OrderUncertain,
    PaymentFailed,
    PlaceOrder,
    PositionDrift,
    PositionMarked,
    PriceTarget,
    PriceUnit,
    ProtectionFailed,
    QuantityType,
    RefusalReason,
    RejectReason,
    Side,
    Sizing,
    SizingRule,
    TenantDeleted,
)
from libs.common.messages.base import Message
from libs.common.records import (
    ApiKeyRecord,
    PlanLimits,
    TenantRecord,
    TenantStatus,
    WebhookTokenRecord,
)

T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
# More digits than a float holds, to catch any float on the way.
PRECISE = Decimal("12345.123456789012345678901234")


def envelope(tenant_id: str = "tenant-a", intent_id: str | None = None) -> dict[str, Any]:
    intent = intent_id or new_id()
    return {"tenant_id": tenant_id, "correlation_id": intent, "causation_id": intent}


def alert(**overrides: Any) -> Alert:
    fields: dict[str, Any] = {
        "action": Action.BUY,
        "instrument": Instrument(
            raw="BINANCE:BTCUSDT.P", exchange="BINANCE", symbol="BTCUSDT", perpetual=True
        ),
        "account": "main",
        "quantity": PRECISE,
        "quantity_type": QuantityType.BASE,
        "order_type": OrderType.LIMIT,
        "price": Decimal("0.000000012345678901234567"),
        "take_profit": PriceTarget(value=Decimal("2.5"), unit=PriceUnit.PERCENT),
        "stop_loss": PriceTarget(value=Decimal("41000.01"), unit=PriceUnit.PRICE),
        "leverage": Decimal(3),
        "position_size": Decimal("-0.75"),
        "sender_id": "strategy-1-bar-42",
        "strategy": "EMA cross",
        "comment": "entry",
        "alert_time": T0,
    }
    return Alert(**(fields | overrides))


def order_intent(tenant_id: str = "tenant-a", **overrides: Any) -> OrderIntent:
    intent_id = new_id()
    fields: dict[str, Any] = envelope(tenant_id, intent_id) | {
        "intent_id": intent_id,
        "webhook_id": new_id(),
        "received_at": T0,
        "source_ip": "52.89.214.238",
        "alert": alert(),
        "raw_body": '{"action": "buy", "ticker": "BINANCE:BTCUSDT.P"}',
        "dedup_key": "strategy-1-bar-42",
    }
    return OrderIntent(**(fields | overrides))


def place_order(tenant_id: str = "tenant-a", **overrides: Any) -> PlaceOrder:
    intent_id = new_id()
    fields: dict[str, Any] = envelope(tenant_id, intent_id) | {
        "intent_id": intent_id,
        "leg": 1,
        "client_order_id": f"sp{intent_id}1",
        "account_label": "main",
        "exchange_id": "binance",
        "mode": AccountMode.PAPER,
        "symbol": "BTC/USDT",
        "side": Side.SELL,
        "order_type": OrderType.LIMIT,
        "sizing": Sizing(rule=SizingRule.TARGET_POSITION, value=-PRECISE),
        "limit_price": PRECISE,
        "reduce_only": True,
        "leverage": Decimal(2),
        "take_profit": PriceTarget(value=Decimal("1.5"), unit=PriceUnit.PERCENT),
        "received_at": T0,
    }
    return PlaceOrder(**(fields | overrides))


def _order_fields(tenant_id: str) -> dict[str, Any]:
    intent_id = new_id()
    return envelope(tenant_id, intent_id) | {
        "intent_id": intent_id,
        "client_order_id": f"sp{intent_id}0",
        "account_label": "main",
        "exchange_id": "binance",
        "symbol": "BTC/USDT",
        "side": Side.BUY,
    }


def fill(**overrides: Any) -> Fill:
    fields: dict[str, Any] = {
        "trade_id": "t-1",
        "price": PRECISE,
        "amount": Decimal("0.000123456789012345678"),
        "fee": Decimal("0.0000001"),
        "fee_currency": "BNB",
        "filled_at": T0,
    }
    return Fill(**(fields | overrides))


def every_event(tenant_id: str = "tenant-a") -> list[Message]:
    """One event of each kind, with awkward decimals."""
    intent_id = new_intent_id()
    return [
        IntentAccepted(
            **envelope(tenant_id, intent_id),
            intent_id=intent_id,
            webhook_id=new_id(),
            action=Action.SELL,
            symbol="BINANCE:ETHUSDT",
            received_at=T0,
            strategy="Trend follower",
        ),
        IntentRejected(
            **envelope(tenant_id, intent_id),
            intent_id=intent_id,
            reason=RejectReason.QUOTA_EXCEEDED,
            message="You reached your plan's 20 orders per day.",
        ),
        OrderSubmitted(
            **_order_fields(tenant_id),
            exchange_order_id="123",
            order_type=OrderType.LIMIT,
            amount=PRECISE,
            price=PRECISE,
            submitted_at=T0,
        ),
        OrderFilled(
            **_order_fields(tenant_id),
            exchange_order_id="123",
            fills=(fill(), fill(trade_id="t-2", fee_currency=None)),
            complete=False,
        ),
        OrderRejected(
            **_order_fields(tenant_id), reason="Account has insufficient balance.", code="-2010"
        ),
        OrderFailed(**_order_fields(tenant_id), reason="Exchange unreachable for 60 s."),
        OrderUncertain(**_order_fields(tenant_id), reason="Not known yet; still looking."),
        OrderCanceled(
            **_order_fields(tenant_id),
            exchange_order_id="123",
            filled_amount=Decimal("0.5"),
            reason="canceled by alert",
        ),
        PositionDrift(
            **_order_fields(tenant_id),
            source=DriftSource.WALLET,
            expected=PRECISE,
            actual=Decimal("-0.000000000000000000000001"),
            written_off=PRECISE,
            message="Your wallet holds less than this strategy bought.",
        ),
        ProtectionFailed(
            **_order_fields(tenant_id),
            protection=OrderRole.STOP_LOSS,
            reason="The exchange refused the stop: it would trigger at once.",
        ),
        PositionMarked(
            **envelope(tenant_id, new_id()),
            account_label="main",
            exchange_id="binance",
            symbol="BTC/USDT:USDT",
            quantity=Decimal("-0.01"),
            entry_price=PRECISE,
            mark_price=Decimal("60000.1"),
            unrealized_pnl=Decimal("-1.23"),
            marked_at=T0,
        ),
        FundingPaid(
            **envelope(tenant_id, new_id()),
            account_label="main",
            exchange_id="binance",
            symbol="BTC/USDT:USDT",
            amount=Decimal("-0.0042"),
            currency="USDT",
            funding_id="8812",
            paid_at=T0,
        ),
        tenant_deleted(tenant_id),
        alert_refused(tenant_id),
        kill_switch_changed(tenant_id),
        payment_failed(tenant_id),
        grace_ending(tenant_id),
    ]


def alert_refused(tenant_id: str = "tenant-a", **overrides: Any) -> AlertRefused:
    """A refusal of one of ``tenant_id``'s webhooks, as ingress reports it."""
    own = new_id()
    fields: dict[str, Any] = {
        "message_id": own,
        "tenant_id": tenant_id,
        "correlation_id": own,
        "causation_id": own,
        "occurred_at": T0,
        "webhook_id": new_id(),
        "reason": RefusalReason.PASSPHRASE,
        "status": 401,
        "message": "The passphrase is wrong.",
        "count": 3,
        "first_refused_at": T0,
    }
    return AlertRefused(**(fields | overrides))


def tenant_deleted(tenant_id: str = "tenant-a", deleted_at: datetime = T0) -> TenantDeleted:
    """Billing's announcement that ``tenant_id`` was deleted."""
    return TenantDeleted.of(TenantId(tenant_id), deleted_at)


def kill_switch_changed(tenant_id: str = "tenant-a", **fields: Any) -> KillSwitchChanged:
    """The router's announcement that a layer's kill switch moved (a symbol's, switched off)."""
    given: dict[str, Any] = {"enabled": False, "layer": "symbol", "account": "main"}
    return KillSwitchChanged.of(tenant_id, 1, T0, **({"symbol": "BTCUSDT"} | given | fields))


def payment_failed(tenant_id: str = "tenant-a", plan: str = "pro") -> PaymentFailed:
    """Billing's notice of a failed payment whose grace period ends a week after ``T0``."""
    return PaymentFailed.of(tenant_id, plan, T0 + timedelta(days=7), T0)


def grace_ending(tenant_id: str = "tenant-a", plan: str = "pro") -> GraceEnding:
    """Billing's notice that the grace period ends within a day."""
    return GraceEnding.of(tenant_id, plan, T0 + timedelta(days=7), T0 + timedelta(days=6))


def plan_limits(**overrides: Any) -> PlanLimits:
    fields: dict[str, Any] = {
        "live_trading": False,
        "max_exchange_accounts": 1,
        "max_webhooks": 3,
        "max_alerts_per_hour": 10,
        "max_orders_per_day": 20,
    }
    return PlanLimits(**(fields | overrides))


def tenant_record(tenant_id: str | None = None, **overrides: Any) -> TenantRecord:
    fields: dict[str, Any] = {
        "tenant_id": tenant_id or new_id(),
        "status": TenantStatus.ACTIVE,
        "plan": "free",
        "limits": plan_limits(),
        "updated_at": T0,
    }
    return TenantRecord(**(fields | overrides))


def webhook_record(tenant_id: str, **overrides: Any) -> WebhookTokenRecord:
    fields: dict[str, Any] = {"tenant_id": tenant_id, "webhook_id": new_id(), "label": "ema"}
    return WebhookTokenRecord(**(fields | overrides))


def api_key_record(tenant_id: str, **overrides: Any) -> ApiKeyRecord:
    fields: dict[str, Any] = {"tenant_id": tenant_id, "key_id": new_id()}
    return ApiKeyRecord(**(fields | overrides))
