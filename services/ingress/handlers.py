"""The webhook's steps, in the order that costs a stranger least and a trader nothing.

Authenticate (memory only) → allowlist → read the body → parse → passphrase → validate →
rate limit (Redis) → store (JetStream). Each step either passes or raises a `WebhookError`.
A passphrase not checked lately costs a slow hash: the rate limit comes before it then, so
guessing is bounded by the tenant's plan (`services.ingress.domain.passphrases`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from opentelemetry import trace

from libs.common.logs import log_context
from services.ingress.adapters.publisher import IntentPublisher, Stored
from services.ingress.adapters.ratelimit import RateLimiter
from services.ingress.domain.normalise import to_alert
from services.ingress.domain.parsing import parse_body
from services.ingress.domain.passphrases import PassphraseCheck
from services.ingress.domain.webhook import Webhook, WebhookGate, build_intent, check_source


class WebhookHandler:
    """Turn one webhook call into a stored intent, or into the reason it was refused."""

    def __init__(
        self,
        gate: WebhookGate,
        limiter: RateLimiter,
        publisher: IntentPublisher,
        *,
        clock: Callable[[], datetime],
        passphrases: PassphraseCheck | None = None,
    ) -> None:
        self._gate = gate
        self._limiter = limiter
        self._publisher = publisher
        self._clock = clock
        self._passphrases = passphrases or PassphraseCheck()

    def authenticate(self, token: str, address: str | None) -> Webhook:
        """Return the webhook the URL names, if it may deliver alerts from ``address``."""
        webhook = self._gate.authenticate(token, self._clock())
        trace.get_current_span().set_attribute("sparky.tenant_id", webhook.record.tenant_id)
        check_source(webhook, address)
        return webhook

    async def accept(self, webhook: Webhook, body: bytes, address: str | None) -> Stored:
        """Store the alert ``body`` as an intent of ``webhook``'s tenant."""
        received_at = self._clock()
        parsed = parse_body(body)
        slow = self._passphrases.pending(webhook, parsed.passphrase)
        if slow is not None:  # counted before the slow hash, so a guess costs a rate slot
            await self._limiter.check(webhook.tenant)
            await self._passphrases.verify(webhook, slow)
        alert = to_alert(parsed.fields)
        if slow is None:
            await self._limiter.check(webhook.tenant)
        intent = build_intent(
            webhook, alert, parsed, body, source_ip=address, received_at=received_at
        )
        with log_context(tenant_id=intent.tenant_id, intent_id=intent.intent_id):
            return await self._publisher.store(intent)
