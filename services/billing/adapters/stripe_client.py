"""Stripe through its official library: webhook verification, checkout and portal links.

Stripe's exceptions stop here; callers see `SignatureError` or `PaymentProviderError`.
``api_base`` points the client at another address (tests use a local fake of Stripe).
"""

from __future__ import annotations

import stripe
from pydantic import ValidationError

from services.billing.domain.stripe_payloads import StripeEvent
from services.billing.errors import PaymentProviderError, SignatureError

DEFAULT_TIMEOUT_S = 10.0


def verify_event(
    payload: bytes, signature: str | None, secret: str, tolerance_s: int
) -> StripeEvent:
    """Return the event if Stripe signed ``payload`` with ``secret`` within the tolerance."""
    try:
        stripe.Webhook.construct_event(payload, signature, secret, tolerance=tolerance_s)
    except stripe.SignatureVerificationError as exc:
        if "tolerance" in str(exc):
            raise SignatureError(
                f"The event was signed more than {tolerance_s} s ago; an old event is refused "
                "so that it cannot be replayed."
            ) from exc
        raise SignatureError(
            "The Stripe-Signature header does not match this body for our signing secret."
        ) from exc
    except ValueError as exc:
        raise SignatureError("The body is not a Stripe event in JSON.") from exc
    try:
        return StripeEvent.model_validate_json(payload)
    except ValidationError as exc:
        raise SignatureError("The body is not a Stripe event we can read.") from exc


class StripeGateway:
    """Create Checkout sessions and customer-portal sessions."""

    def __init__(
        self, api_key: str, *, api_base: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self._http = stripe.HTTPXClient(timeout=timeout_s)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else {},
            http_client=self._http,
            max_network_retries=2,  # the library sends an idempotency key with retried POSTs
        )

    async def checkout_url(
        self,
        *,
        tenant_id: str,
        plan: str,
        price_id: str,
        customer_id: str | None,
        success_url: str,
        cancel_url: str,
    ) -> str:
        """Return the URL of a subscription checkout for ``plan``, tagged with the tenant."""
        metadata = {"tenant_id": tenant_id, "plan": plan}
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                {
                    "mode": "subscription",
                    "line_items": [{"price": price_id, "quantity": 1}],
                    "client_reference_id": tenant_id,
                    "metadata": metadata,
                    "subscription_data": {"metadata": {"tenant_id": tenant_id}},
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                    **({"customer": customer_id} if customer_id else {}),
                }
            )
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        return _url(session.url)

    async def portal_url(self, *, customer_id: str, return_url: str) -> str:
        """Return the URL of the customer portal, where a tenant manages its subscription."""
        try:
            session = await self._client.v1.billing_portal.sessions.create_async(
                {"customer": customer_id, "return_url": return_url}
            )
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        return _url(session.url)

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]


def _provider_error(exc: stripe.StripeError) -> PaymentProviderError:
    status = f" (HTTP {exc.http_status})" if exc.http_status else ""
    return PaymentProviderError(f"The payment provider did not answer as expected{status}.")


def _url(url: str | None) -> str:
    if not url:
        raise PaymentProviderError("The payment provider returned no link.")
    return url
