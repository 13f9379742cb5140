"""The parts of Stripe's webhook payloads billing reads, as typed models.

Stripe adds fields all the time, so these ignore what they do not name. An id that Stripe
sometimes expands into an object (``customer``, ``subscription``) is read either way.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _id_of(value: object) -> object:
    if isinstance(value, dict):
        return value.get("id")
    return value


StripeId = Annotated[str | None, BeforeValidator(_id_of)]


class StripeModel(BaseModel):
    """A Stripe object: immutable, tolerant of fields we do not use."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class CheckoutSession(StripeModel):
    """A checkout session; ``payment_status`` is ``paid``, ``unpaid`` or ``no_payment_required``."""

    id: str
    customer: StripeId = None
    subscription: StripeId = None
    client_reference_id: str | None = None
    payment_status: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class Price(StripeModel):
    id: str


class SubscriptionItem(StripeModel):
    price: Price


class SubscriptionItems(StripeModel):
    data: list[SubscriptionItem] = Field(default_factory=list)


class Subscription(StripeModel):
    id: str
    customer: StripeId = None
    status: str
    items: SubscriptionItems = SubscriptionItems()
    metadata: dict[str, str] = Field(default_factory=dict)

    @property
    def price_ids(self) -> list[str]:
        return [item.price.id for item in self.items.data]


class SubscriptionDetails(StripeModel):
    subscription: StripeId = None
    metadata: dict[str, str] = Field(default_factory=dict)


class InvoiceParent(StripeModel):
    subscription_details: SubscriptionDetails | None = None


class Invoice(StripeModel):
    """An invoice; newer API versions moved ``subscription`` under ``parent``."""

    id: str | None = None
    customer: StripeId = None
    subscription: StripeId = None
    parent: InvoiceParent | None = None

    @property
    def subscription_id(self) -> str | None:
        details = self.parent.subscription_details if self.parent else None
        return self.subscription or (details.subscription if details else None)

    @property
    def metadata(self) -> dict[str, str]:
        details = self.parent.subscription_details if self.parent else None
        return details.metadata if details else {}


class EventData(StripeModel):
    object: dict[str, object]


class StripeEvent(StripeModel):
    """A webhook event after its signature was verified."""

    id: str = Field(min_length=1, max_length=255)
    type: str
    created: int
    data: EventData
