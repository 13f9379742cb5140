"""Decoding stream messages, page cursors and CSV cells."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from libs.common.messages import Event
from libs.common.topology import Topology
from services.ledger.api.cursor import Cursor
from services.ledger.api.export import cells, safe
from services.ledger.api.schemas import TradeOut
from services.ledger.domain.rows import Poison, Sequenced
from services.ledger.errors import InvalidCursorError
from services.ledger.handlers.codec import decode
from tests import factories
from tests.helpers.ledger import Order, fill

TOPOLOGY = Topology(namespace="unit")


def test_an_event_on_its_own_subject_decodes() -> None:
    event = Order("tenant-a").accepted()
    decoded = decode(7, TOPOLOGY.event_subject("tenant-a", event.kind), event.to_json(), TOPOLOGY)
    assert decoded == Sequenced(7, event)


def test_garbage_becomes_poison_with_the_reason() -> None:
    decoded = decode(3, "unit.events.tenant-a.order.filled", b"\xff{not json", TOPOLOGY)
    assert isinstance(decoded, Poison)
    assert decoded.seq == 3
    assert decoded.error.startswith("not a valid event")
    assert decoded.payload.endswith("{not json")


def test_an_event_on_another_tenants_subject_is_poison() -> None:
    event = Order("tenant-a").accepted()
    decoded = decode(4, TOPOLOGY.event_subject("tenant-b", event.kind), event.to_json(), TOPOLOGY)
    assert isinstance(decoded, Poison)
    assert "its subject is unit.events.tenant-a.intent.accepted" in decoded.error


@pytest.mark.parametrize("price", ["1E+200000", "1E+30", "0.0000000000000000000000000000001"])
def test_a_number_beyond_the_ledgers_range_is_poison(price: str) -> None:
    # The database driver would silently store 0 for 1E+200000. The message contract refuses
    # such amounts, so a publisher could only send one as raw JSON: build it that way.
    event = Order("tenant-a").filled(fill("t1", "1", "1"))
    payload = event.to_json().replace(b'"price":"1"', f'"price":"{price}"'.encode())
    assert payload != event.to_json()
    decoded = decode(5, TOPOLOGY.event_subject("tenant-a", event.kind), payload, TOPOLOGY)
    assert isinstance(decoded, Poison)
    assert "price" in decoded.error


def test_trailing_zeros_do_not_count_as_places() -> None:
    event = Order("tenant-a").filled(fill("t1", "100." + "0" * 40, "1"))
    decoded = decode(5, TOPOLOGY.event_subject("tenant-a", event.kind), event.to_json(), TOPOLOGY)
    assert isinstance(decoded, Sequenced)


def test_a_cursor_survives_the_round_trip() -> None:
    cursor = Cursor(datetime(2026, 3, 2, 9, 30, 0, 123456, tzinfo=UTC), "01J0-0001")
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize("token", ["", "abc", "!!!!", Cursor(datetime.now(UTC), "x").encode()[:-3]])
def test_a_cursor_we_did_not_issue_is_refused_in_words(token: str) -> None:
    with pytest.raises(InvalidCursorError, match="not valid"):
        Cursor.decode(token)


def test_csv_cells_cannot_run_as_spreadsheet_formulas() -> None:
    assert safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe("@SUM") == "'@SUM"
    assert safe("main") == "main"
    assert safe(None) == ""


def test_csv_rows_carry_exact_decimals_without_exponent() -> None:
    order = Order("tenant-a", account="=cmd")
    f = fill("t1", "0.00000001", "1E+2", fee="0")
    row = TradeOut(
        id="x",
        time=f.filled_at,
        account=order.account,
        exchange="binance",
        symbol="BTC/USDT",
        side="buy",
        price=f.price,
        amount=f.amount,
        fee=Decimal(0),
        fee_currency="USDT",
        trade_id="t1",
        client_order_id=order.client_order_id,
        exchange_order_id="1",
        intent_id=order.intent_id,
    )
    assert cells(row)[1] == "'=cmd"
    assert cells(row)[5:7] == ["0.00000001", "100"]


def test_kill_switch_and_billing_notices_decode_rather_than_poison() -> None:
    notices: list[Event] = [
        factories.kill_switch_changed(),
        factories.payment_failed(),
        factories.grace_ending(),
    ]
    for seq, event in enumerate(notices):
        subject = TOPOLOGY.event_subject(event.tenant_id, event.kind)
        assert decode(seq, subject, event.to_json(), TOPOLOGY) == Sequenced(seq, event)
