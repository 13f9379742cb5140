"""What the bot says is valid Telegram HTML whatever a trader, an exchange or a chat wrote."""

from __future__ import annotations

import httpx

from services.notifier.bot import texts
from services.notifier.bot.signals import _outcome, masked, token_of
from tests.helpers.telegram_api import _balanced_html

HOSTILE = "<b>x</b> & <script>"


def test_every_outside_value_is_escaped() -> None:
    replies = [
        texts.linked(HOSTILE),
        texts.signal_refused(HOSTILE, HOSTILE),
        texts.edit_not_traded(HOSTILE),
        texts.signals_claimed(HOSTILE, HOSTILE),
        texts.positions(
            [
                {
                    "symbol": HOSTILE,
                    "account": HOSTILE,
                    "side": "long",
                    "quantity": "1",
                    "average_entry_price": None,
                    "unrealized_pnl": "2",
                }
            ]
        ),
        texts.alerts(
            [
                {
                    "received_at": "2026-01-01T10:00:00Z",
                    "action": HOSTILE,
                    "symbol": "BTCUSDT",
                    "outcome": HOSTILE,
                    "status": "filled",
                }
            ]
        ),
        texts.status(
            {"plan": HOSTILE, "payment_state": "ok"},
            [{"label": HOSTILE, "exchange_id": "binance", "mode": "paper", "status": "valid"}],
            trading=False,
        ),
        texts.HELP,
        texts.HOW_TO_LINK,
    ]
    for reply in replies:
        assert "<script>" not in reply
        assert _balanced_html(reply), reply


def test_a_webhook_url_gives_its_token_and_is_shown_masked() -> None:
    url = "https://hooks.example.com/webhooks/tv/whk_AbC-123_xyz"
    assert token_of(url) == "whk_AbC-123_xyz"
    assert masked(url) == "https://hooks.example.com/webhooks/tv/whk_AbC-…"
    assert token_of("https://example.com/other/whk_x") is None
    assert token_of("whk_x") is None
    assert token_of("https://example.com/webhooks/tv/a b") is None


def test_ingress_refusals_become_the_sentence_the_trader_reads() -> None:
    body = {
        "error": "Invalid alert.",
        "errors": [{"field": "action", "message": "The message must start with an action."}],
    }
    refused = _outcome(httpx.Response(400, json=body))
    assert refused.refusal == "Invalid alert. The message must start with an action."
    assert _outcome(httpx.Response(202, json={"intent_id": "x"})).refusal is None
    assert _outcome(httpx.Response(200, json={"duplicate": True})).refusal is None
