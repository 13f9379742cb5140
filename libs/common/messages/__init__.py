"""Every message that crosses a service boundary, as frozen pydantic v2 models."""

from libs.common.messages.alert import Alert, Instrument, PriceTarget
from libs.common.messages.base import Message, envelope_from
from libs.common.messages.commands import OrderIntent, PlaceOrder, Sizing
from libs.common.messages.enums import (
    AccountMode,
    Action,
    MarginMode,
    MarketPosition,
    OrderType,
    PriceUnit,
    QuantityType,
    RejectReason,
    Side,
    SizingRule,
)
from libs.common.messages.events import (
    EVENT_TYPES,
    Event,
    Fill,
    IntentAccepted,
    IntentRejected,
    OrderCanceled,
    OrderFailed,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    decode_event,
)

__all__ = [
    "EVENT_TYPES",
    "AccountMode",
    "Action",
    "Alert",
    "Event",
    "Fill",
    "Instrument",
    "IntentAccepted",
    "IntentRejected",
    "MarginMode",
    "MarketPosition",
    "Message",
    "OrderCanceled",
    "OrderFailed",
    "OrderFilled",
    "OrderIntent",
    "OrderRejected",
    "OrderSubmitted",
    "OrderType",
    "PlaceOrder",
    "PriceTarget",
    "PriceUnit",
    "QuantityType",
    "RejectReason",
    "Side",
    "Sizing",
    "SizingRule",
    "decode_event",
    "envelope_from",
]
