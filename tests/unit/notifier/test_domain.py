"""The notifier's pure decisions: what a channel wants, what events say, escaping, folding."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from libs.common.config import Environment
from libs.common.errors import ConfigurationError
from services.notifier.channels.base import Outgoing
from services.notifier.channels.webhook import body_of, sign
from services.notifier.config import DEV_DATA_KEY, NotifierSettings
from services.notifier.domain.kinds import DEFAULT_KINDS, Markup, Wish, wish
from services.notifier.domain.markup import render
from services.notifier.domain.notices import notice_of, verification_notice
from tests import factories
from tests.helpers.notifier_flow import order_filled, order_rejected

AT = datetime(2026, 1, 2, tzinfo=UTC)


def _event(message: Any) -> dict[str, Any]:
    event: dict[str, Any] = message.model_dump(mode="json")
    return event


def test_default_channels_skip_noisy_kinds_and_quiet_ones_keep_only_problems() -> None:
    assert wish("order.filled", DEFAULT_KINDS, quiet=False) is Wish.SEND
    assert wish("position.marked", DEFAULT_KINDS, quiet=False) is Wish.IGNORE
    assert wish("order.filled", DEFAULT_KINDS, quiet=True) is Wish.DROP
    assert wish("order.rejected", DEFAULT_KINDS, quiet=True) is Wish.SEND
    assert wish("settings.kill_switch", DEFAULT_KINDS, quiet=True) is Wish.SEND
    assert wish("intent.accepted", DEFAULT_KINDS, quiet=False) is Wish.IGNORE
    assert wish("order.failed", ("order.filled",), quiet=False) is Wish.DROP


def test_a_reason_cannot_inject_markup_or_mentions() -> None:
    hostile = "<b>x</b> @everyone **bold** [link](https://evil.example) `code`"
    notice = notice_of(_event(order_rejected("t1", hostile)))
    html = render([notice], Markup.HTML)
    markdown = render([notice], Markup.MARKDOWN)
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "@everyone" not in markdown
    assert "**bold**" not in markdown
    assert "](https://" not in markdown


def test_many_fills_fold_into_one_line_within_the_channels_size() -> None:
    notices = [notice_of(_event(order_filled("t1", "BTCUSDT", "0.1"))) for _ in range(300)]
    text = render(notices, Markup.MARKDOWN, max_chars=1900)
    assert text.startswith("**300 orders filled**")
    assert "BTCUSDT +0.1" in text
    assert "more" in text
    assert len(text) <= 1900


def test_every_event_kind_reads_as_a_notice() -> None:
    for event in factories.every_event("t1"):
        notice = notice_of(_event(event))
        assert notice.title
        assert notice.event_id == event.message_id


def test_the_webhook_body_and_signature_are_what_the_docs_say() -> None:
    notice = verification_notice("t1", "c1", "123456", AT)
    body = body_of(Outgoing("d1", (notice,)))
    assert body == {"type": "verification", "delivery_id": "d1", "code": "123456"}
    expected = hmac.new(b"whsec_x", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("whsec_x", 1700000000, b"{}") == f"v1={expected}"


def test_production_refuses_the_development_data_key_and_private_webhooks() -> None:
    with pytest.raises(ConfigurationError, match="data_key"):
        NotifierSettings(environment=Environment.PROD, data_key=SecretStr(DEV_DATA_KEY))
    with pytest.raises(ConfigurationError, match="WEBHOOK_ALLOW"):
        NotifierSettings(
            environment=Environment.PROD, data_key=SecretStr("x" * 40), webhook_allow_private=True
        )
