"""Every executable template in docs/alerts.md (a fence right after ``<!-- template: NAME -->``)
reads as the alert the docs say, once TradingView has filled in its placeholders.

The end-to-end tests send the same templates through the whole stack; this one fails first,
and in a second, when the docs get a template wrong.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from libs.common.messages import Action, Alert, ExitKind, PriceUnit
from services.ingress.domain.normalise import to_alert
from services.ingress.domain.parsing import parse_body

ALERTS_DOC = Path(__file__).resolve().parents[3] / "docs" / "alerts.md"
TEMPLATE = re.compile(
    r"^<!-- template: (?P<name>[a-z0-9-]+) -->\n```(?P<kind>json|text)\n(?P<body>.*?)^```",
    re.MULTILINE | re.DOTALL,
)
# What TradingView writes for each placeholder the templates use (a long entry).
SAMPLE = {
    "timenow": "2026-01-02T03:04:05Z",
    "strategy.order.action": "buy",
    "strategy.order.contracts": "0.01",
    "strategy.market_position": "long",
    "strategy.position_size": "0.01",
    "close": "60000",
    "interval": "15",
}
_PLACEHOLDER = re.compile(r"\{\{([a-z_.]+)\}\}")


def templates() -> dict[str, tuple[str, str]]:
    """Return ``{name: (kind, body)}`` of every marked template."""
    found: dict[str, tuple[str, str]] = {}
    for match in TEMPLATE.finditer(ALERTS_DOC.read_text()):
        assert match["name"] not in found, f"template {match['name']} is marked twice"
        found[match["name"]] = (match["kind"], match["body"])
    return found


def rendered(body: str) -> str:
    return _PLACEHOLDER.sub(lambda m: SAMPLE[m[1]], body)


def read(name: str) -> Alert:
    return to_alert(parse_body(rendered(templates()[name][1]).encode()).fields)


def test_the_docs_mark_the_futures_and_traderspost_templates() -> None:
    names = set(templates())

    assert len(names) >= 12
    assert {n.split("-")[0] for n in names} == {"futures", "traderspost"}
    assert ALERTS_DOC.read_text().count("<!-- template:") == len(names)  # none malformed


@pytest.mark.parametrize("name", sorted(templates()))
def test_every_marked_template_reads_as_an_alert_on_a_listed_perpetual(name: str) -> None:
    kind, body = templates()[name]
    placeholders = set(_PLACEHOLDER.findall(body))
    assert placeholders <= set(SAMPLE), f"{name}: no sample value for {placeholders - set(SAMPLE)}"

    alert = read(name)

    assert alert.instrument.symbol in {"BTCUSDT", "ETHUSDT"}
    assert alert.instrument.perpetual
    assert alert.account == ("futures" if name.startswith("futures") else None)
    assert parse_body(rendered(body).encode()).kind == kind


def test_the_templates_ask_for_what_their_titles_say() -> None:
    long, short = read("futures-long-tp-sl"), read("futures-short-tp-sl")
    trailing = read("futures-trailing-stop")

    assert (long.action, long.leverage) == (Action.BUY, Decimal(5))
    assert long.take_profit is not None
    assert long.take_profit.unit is PriceUnit.PERCENT
    assert (short.action, short.stop_loss and short.stop_loss.value) == (
        Action.SELL,
        Decimal("1.5"),
    )
    assert trailing.stop_loss is not None
    assert trailing.stop_loss.kind is ExitKind.TRAILING
    assert read("futures-close").action is Action.CLOSE
    assert read("futures-cancel").action is Action.CANCEL
    assert read("futures-target-position").is_target_position
    assert read("traderspost-exit").action is Action.CLOSE
    assert read("traderspost-strategy").action is Action.BUY
    assert read("futures-text-short-trailing").stop_loss is not None
