"""Events: facts that happened, on ``events.<tenant>.<kind>``; the ledger is rebuilt from them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Final, Literal, Self

from pydantic import Field, TypeAdapter

from libs.common.ids import ClientOrderId, IntentId, TenantId, Ulid, stable_ulid
from libs.common.messages.base import Message
from libs.common.messages.enums import (
    Action,
    DriftSource,
    OrderRole,
    OrderType,
    RefusalReason,
    RejectReason,
    Side,
)
from libs.common.messages.types import (
    Amount,
    FrozenModel,
    Label,
    NonNegativeAmount,
    PositiveAmount,
    ShortText,
    UtcDatetime,
)


class IntentAccepted(Message):
    """Ingress stored an alert: the start of the tenant's audit trail and of usage counting."""

    kind: Literal["intent.accepted"] = "intent.accepted"
    intent_id: IntentId
    webhook_id: Ulid
    action: Action
    symbol: str = Field(max_length=64, description="The ticker as TradingView sent it.")
    received_at: UtcDatetime
    strategy: ShortText | None = Field(default=None, description="The alert's ``strategy``.")


class IntentRejected(Message):
    """The router refused an intent; ``message`` says why in a trader's words."""

    kind: Literal["intent.rejected"] = "intent.rejected"
    intent_id: IntentId
    reason: RejectReason
    message: ShortText


class AlertRefused(Message):
    """Ingress refused requests to a webhook it knows (bad alert, passphrase, IP allowlist,
    rate limit, suspended account, too large…): what the trader's feed shows of them.

    Never the body nor anything secret. Throttled per webhook and reason: ``count`` refusals
    between ``first_refused_at`` and ``occurred_at`` (the last) are folded into one event.
    ``message`` is the answer the webhook gave, ``status`` its HTTP status.
    """

    kind: Literal["alert.refused"] = "alert.refused"
    webhook_id: Ulid
    reason: RefusalReason
    status: int = Field(ge=400, le=499)
    message: ShortText
    count: int = Field(default=1, ge=1)
    first_refused_at: UtcDatetime


class OrderEvent(Message):
    """Fields of every event about one order.

    ``role``: ``order`` for an order an alert asked for; ``take_profit`` / ``stop_loss`` for a
    protective order the executor placed after ``parent_client_order_id`` (the entry) filled.
    """

    intent_id: IntentId
    client_order_id: ClientOrderId
    account_label: Label
    exchange_id: str = Field(min_length=1, max_length=32)
    symbol: str = Field(min_length=1, max_length=64)
    side: Side
    role: OrderRole = OrderRole.ORDER
    parent_client_order_id: ClientOrderId | None = None


class OrderSubmitted(OrderEvent):
    """The exchange accepted the order; ``note`` says why its size differs from the alert's."""

    kind: Literal["order.submitted"] = "order.submitted"
    exchange_order_id: str = Field(max_length=64)
    order_type: OrderType
    amount: PositiveAmount
    price: PositiveAmount | None = None
    submitted_at: UtcDatetime
    note: ShortText | None = None
    trigger_price: PositiveAmount | None = Field(
        default=None, description="A protective order's trigger (a trailing stop's activation)."
    )
    reduce_only: bool = False
    leverage: PositiveAmount | None = None


class Fill(FrozenModel):
    """One execution of an order. ``fee_currency`` is kept as the exchange reported it."""

    trade_id: str = Field(min_length=1, max_length=64)
    price: PositiveAmount
    amount: PositiveAmount
    fee: NonNegativeAmount
    fee_currency: str | None = Field(default=None, max_length=16)
    filled_at: UtcDatetime


class OrderFilled(OrderEvent):
    """New fills of an order; ``complete`` once nothing is left open."""

    kind: Literal["order.filled"] = "order.filled"
    exchange_order_id: str = Field(max_length=64)
    fills: tuple[Fill, ...] = Field(min_length=1)
    complete: bool = True


class OrderRejected(OrderEvent):
    """The exchange, or sizing against live data, refused the order; it will not be retried."""

    kind: Literal["order.rejected"] = "order.rejected"
    reason: ShortText
    code: str | None = Field(default=None, max_length=64)


class OrderFailed(OrderEvent):
    """The order was not placed, for a reason on our side (credentials, exchange down): final."""

    kind: Literal["order.failed"] = "order.failed"
    reason: ShortText


class OrderUncertain(OrderEvent):
    """Whether the exchange has the order is not known: it may still appear.

    Not final: the executor keeps looking the order up by client order id and reports it
    (``order.submitted``, ``order.filled``) if it appears, or ``order.failed`` once it is
    known that it can no longer arrive.
    """

    kind: Literal["order.uncertain"] = "order.uncertain"
    reason: ShortText


class PositionDrift(OrderEvent):
    """The strategy's position in a symbol is not what it should be, found around one order.

    ``source`` says against what: TradingView's own view of the strategy after the alert
    (``{{strategy.position_size}}``), or the wallet, which held less of the coin than the
    strategy had bought. ``expected`` is that view, ``actual`` Sparky's strategy position (both
    signed, in the base currency). ``written_off`` is what left the strategy's position
    because the wallet no longer held it (sold or moved outside Sparky); ``healed`` says the
    order was sized to restore TradingView's position.
    """

    kind: Literal["position.drift"] = "position.drift"
    source: DriftSource
    expected: Amount
    actual: Amount
    written_off: NonNegativeAmount = Decimal(0)
    healed: bool = False
    message: ShortText


class OrderCanceled(OrderEvent):
    """The order was canceled, possibly after partial fills."""

    kind: Literal["order.canceled"] = "order.canceled"
    exchange_order_id: str = Field(max_length=64)
    filled_amount: NonNegativeAmount = Decimal(0)
    reason: ShortText | None = None


class ProtectionFailed(OrderEvent):
    """A protective order of a filled entry could not be placed (after retries): the position
    is not protected by it. The fields name the entry; ``protection`` says which order."""

    kind: Literal["protection.failed"] = "protection.failed"
    protection: OrderRole
    reason: ShortText


class PositionMarked(Message):
    """The venue's view of a futures position: its mark price and unrealized PnL (polled by
    the executor while the strategy holds a position; ``quantity`` signed, base currency)."""

    kind: Literal["position.marked"] = "position.marked"
    account_label: Label
    exchange_id: str = Field(min_length=1, max_length=32)
    symbol: str = Field(min_length=1, max_length=64)
    quantity: Amount
    entry_price: NonNegativeAmount | None = None
    mark_price: PositiveAmount
    unrealized_pnl: Amount
    liquidation_price: NonNegativeAmount | None = None
    marked_at: UtcDatetime


class FundingPaid(Message):
    """A funding payment on a perpetual position, as the venue booked it: ``amount`` signed
    (negative: paid, positive: received), in ``currency``; ``funding_id`` is the venue's."""

    kind: Literal["funding.paid"] = "funding.paid"
    account_label: Label
    exchange_id: str = Field(min_length=1, max_length=32)
    symbol: str = Field(min_length=1, max_length=64)
    amount: Amount
    currency: str = Field(min_length=1, max_length=16)
    funding_id: str = Field(min_length=1, max_length=64)
    paid_at: UtcDatetime


class TenantDeleted(Message):
    """Billing deleted the tenant (an operator's decision, never a lapsed payment): whoever
    holds the tenant's data purges it. Published once the tenant's row says so, again until
    the publish is acknowledged, so it may arrive more than once: handling it is idempotent.
    ``correlation_id`` and ``causation_id`` are the message's own id (nothing caused it)."""

    kind: Literal["tenant.deleted"] = "tenant.deleted"
    deleted_at: UtcDatetime

    @classmethod
    def of(cls, tenant_id: TenantId, deleted_at: datetime) -> TenantDeleted:
        """Return the announcement of ``tenant_id``'s deletion at ``deleted_at``; the same
        deletion announced again is the same message (one id: JetStream drops the repeat)."""
        own = stable_ulid(deleted_at, f"tenant.deleted:{tenant_id}:{deleted_at.isoformat()}")
        return cls(
            message_id=own,
            tenant_id=tenant_id,
            correlation_id=own,
            causation_id=own,
            deleted_at=deleted_at,
        )


def _own_envelope(tenant_id: str, at: datetime, key: str) -> dict[str, str]:
    """Return the envelope of an event nothing caused: its id, stable for ``key``, is also its
    correlation and causation id (a republished notice is the same message)."""
    own = stable_ulid(at, key)
    return {"message_id": own, "tenant_id": tenant_id, "correlation_id": own, "causation_id": own}


class KillSwitchChanged(Message):
    """A committed change of a trade-settings layer's kill switch (``enabled``): ``enabled``
    says whether that layer lets trading through after the change (an absent ``enabled``, or a
    deleted layer, does: only ``false`` on some layer switches trading off). ``account`` and
    ``symbol`` name the layer (None above it). Published once per settings change that moved
    the switch, again until JetStream acknowledged it: the same message id each time."""

    kind: Literal["settings.kill_switch"] = "settings.kill_switch"
    enabled: bool
    layer: Literal["tenant", "account", "symbol"]
    account: Label | None = None
    symbol: str | None = Field(default=None, min_length=1, max_length=64)
    changed_by: Literal["api"] = "api"

    @classmethod
    def of(cls, tenant_id: str, change_id: int, changed_at: datetime, **fields: object) -> Self:
        """Return the announcement of the settings change ``change_id`` (one id per change)."""
        key = f"settings.kill_switch:{tenant_id}:{change_id}"
        return cls.model_validate(
            {**_own_envelope(tenant_id, changed_at, key), "occurred_at": changed_at, **fields}
        )


class BillingNotice(Message):
    """Fields of billing's notices about a failed payment: the plan the tenant keeps until
    ``grace_ends_at``, when the fallback plan's limits apply. One message id per grace period
    and kind, so a notice published again is dropped by JetStream or by its consumers."""

    plan: str = Field(min_length=1, max_length=32)
    grace_ends_at: UtcDatetime

    @classmethod
    def of(cls, tenant_id: str, plan: str, grace_ends_at: datetime, at: datetime) -> Self:
        """Return the notice of the grace period ending at ``grace_ends_at``, occurring ``at``."""
        kind = cls.model_fields["kind"].default
        key = f"{kind}:{tenant_id}:{grace_ends_at.isoformat()}"
        return cls.model_validate(
            {
                **_own_envelope(tenant_id, grace_ends_at, key),
                "occurred_at": at,
                "plan": plan,
                "grace_ends_at": grace_ends_at,
            }
        )


class PaymentFailed(BillingNotice):
    """Stripe reported a failed payment and a grace period started (once per grace period:
    Stripe's retries within it are not announced again)."""

    kind: Literal["billing.payment_failed"] = "billing.payment_failed"


class GraceEnding(BillingNotice):
    """The grace period of a failed payment ends within about a day (once per grace period)."""

    kind: Literal["billing.grace_ending"] = "billing.grace_ending"


Event = Annotated[
    IntentAccepted
    | IntentRejected
    | AlertRefused
    | OrderSubmitted
    | OrderFilled
    | OrderRejected
    | OrderFailed
    | OrderUncertain
    | OrderCanceled
    | PositionDrift
    | ProtectionFailed
    | PositionMarked
    | FundingPaid
    | TenantDeleted
    | KillSwitchChanged
    | PaymentFailed
    | GraceEnding,
    Field(discriminator="kind"),
]

EVENT_TYPES: Final = (
    IntentAccepted,
    IntentRejected,
    AlertRefused,
    OrderSubmitted,
    OrderFilled,
    OrderRejected,
    OrderFailed,
    OrderUncertain,
    OrderCanceled,
    PositionDrift,
    ProtectionFailed,
    PositionMarked,
    FundingPaid,
    TenantDeleted,
    KillSwitchChanged,
    PaymentFailed,
    GraceEnding,
)

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def decode_event(payload: bytes | str) -> Event:
    """Parse any event from its JSON; raises `pydantic.ValidationError` on a bad payload."""
    return _EVENT_ADAPTER.validate_json(payload)
