"""The feed's rows as the stream sends them: a new alert's row is prepended, a known one's
replaces it in place (an out-of-band swap by its id); text is escaped.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.web.api.alerts import STATUSES, _matches
from services.web.api.common import install_filters
from services.web.rendering import TEMPLATES_DIR

ALERT: dict[str, Any] = {
    "intent_id": "01J0000000000000000000000A",
    "webhook_id": "w1",
    "received_at": "2026-03-02T09:30:00Z",
    "updated_at": "2026-03-02T09:30:01Z",
    "action": "buy",
    "symbol": "BINANCE:BTCUSDT",
    "strategy": "<b>EMA</b>",
    "status": "filled",
    "outcome": "Bought 0.001 BTC.",
    "reason": None,
    "filled_amount": "0.00100000",
    "average_price": "60000.5",
    "seq": 7,
}


def _row(alert: dict[str, Any], *, oob: bool) -> str:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html"])
    )
    install_filters(env)
    return env.get_template("alerts/row.html").render(alert=alert, oob=oob)


def test_a_new_row_is_plain_and_carries_what_the_browser_test_reads() -> None:
    row = _row(ALERT, oob=False)
    assert 'id="alert-01J0000000000000000000000A"' in row
    assert 'data-intent-id="01J0000000000000000000000A"' in row
    assert 'data-status="filled"' in row
    assert "hx-swap-oob" not in row
    assert "0.001 at 60,000.5" in row
    assert "&lt;b&gt;EMA&lt;/b&gt;" in row


def test_a_known_row_replaces_itself_by_id() -> None:
    assert 'hx-swap-oob="true"' in _row(ALERT, oob=True)


def test_a_refused_alert_without_action_or_symbol_still_renders() -> None:
    refused = ALERT | {"action": None, "symbol": None, "status": "refused", "filled_amount": None}
    row = _row(refused, oob=False)
    assert 'data-status="refused"' in row


def test_filters_match_status_symbol_and_strategy_exactly() -> None:
    empty = dict.fromkeys(("status", "symbol", "strategy", "since", "until"), "")
    assert _matches(ALERT, empty)
    assert _matches(ALERT, empty | {"status": "filled", "symbol": "BINANCE:BTCUSDT"})
    assert not _matches(ALERT, empty | {"status": "refused"})
    assert not _matches(ALERT, empty | {"strategy": "EMA"})
    assert "filled" in STATUSES
