"""Reading a body: JSON or text, whatever the content type; refusals a trader can read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.ingress.domain.parsing import parse_body
from services.ingress.errors import InvalidAlertError


def refusal(body: bytes) -> list[tuple[str, str]]:
    with pytest.raises(InvalidAlertError) as caught:
        parse_body(body)
    return [(e.field, e.message) for e in caught.value.errors]


def test_json_numbers_stay_exact_decimals_never_floats() -> None:
    parsed = parse_body(b'{"action": "buy", "qty": 12345.123456789012345678901234, "price": 3}')

    assert parsed.kind == "json"
    assert parsed.fields["quantity"] == Decimal("12345.123456789012345678901234")
    assert parsed.fields["price"] == Decimal(3)


@pytest.mark.parametrize(
    ("key", "canonical"),
    [
        ("ticker", "symbol"),
        ("qty", "quantity"),
        ("contracts", "quantity"),
        ("amount", "quantity"),
        ("TP", "take_profit"),
        ("sl", "stop_loss"),
        ("Type", "order_type"),
        (" Action ", "action"),
    ],
)
def test_aliases_and_any_case_reach_the_canonical_field(key: str, canonical: str) -> None:
    parsed = parse_body(f'{{"{key}": "x"}}'.encode())

    assert dict(parsed.fields) == {canonical: "x"}


def test_a_field_given_twice_under_two_names_is_refused() -> None:
    errors = refusal(b'{"qty": 1, "contracts": 2}')

    assert errors == [("quantity", "quantity is given twice (as 'qty' and 'contracts').")]


def test_a_repeated_json_key_is_refused_rather_than_silently_overwritten() -> None:
    assert refusal(b'{"action": "buy", "action": "sell"}')[0][0] == "action"


def test_an_unknown_field_is_named_so_a_typo_cannot_go_unnoticed() -> None:
    errors = refusal(b'{"action": "buy", "quantiy": 1}')

    assert errors[0][0] == "quantiy"
    assert "not a field Sparky knows" in errors[0][1]


def test_null_means_not_given() -> None:
    assert "price" not in parse_body(b'{"action": "buy", "price": null}').fields


def test_the_passphrase_is_kept_apart_from_the_fields() -> None:
    parsed = parse_body(b'{"action": "buy", "passphrase": "s3cret-phrase"}')

    assert parsed.passphrase == "s3cret-phrase"
    assert "passphrase" not in parsed.fields


def test_text_is_parsed_even_when_it_starts_with_spaces_and_a_bom() -> None:
    parsed = parse_body("\ufeff  buy BTCUSDT 0.01 \n".encode())

    assert parsed.kind == "text"
    assert parsed.fields["action"] == "buy"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "The message is empty"),
        (b"   \n ", "The message is empty"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b'{"action": "buy",', "not valid JSON"),
        (b'{"qty": NaN}', "NaN is not a number"),
        (b'{"qty": Infinity}', "Infinity is not a number"),
        (b'["buy", "BTCUSDT"]', "one JSON object"),
        (b"[" * 50_000, "nested too deeply"),
        (b'{"a":' * 50_000, "nested too deeply"),
    ],
)
def test_unreadable_bodies_are_refused_with_a_reason(body: bytes, says: str) -> None:
    ((field, message),) = refusal(body)

    assert field == "body"
    assert says in message


def test_a_lone_surrogate_in_json_is_refused_not_carried_downstream() -> None:
    assert "not valid Unicode" in refusal(b'{"comment": "\\ud800"}')[0][1]


def test_a_huge_json_integer_does_not_hit_pythons_digit_limit() -> None:
    parsed = parse_body(b'{"qty": ' + b"9" * 10_000 + b"}")

    assert isinstance(parsed.fields["quantity"], Decimal)


def test_at_most_twenty_field_errors_are_listed() -> None:
    body = "{" + ",".join(f'"bad{i}": 1' for i in range(100)) + "}"

    assert len(refusal(body.encode())) == 20


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("quantiy", "quantity"),
        ("take_proft", "take_profit"),
        ("stopLos", "stopLoss"),
        ("sentimnt", "sentiment"),
        ("signal_prise", "signal_price"),
    ],
)
def test_a_misspelt_field_is_refused_with_the_name_it_probably_meant(key: str, hint: str) -> None:
    ((field, message),) = refusal(f'{{"action": "buy", "{key}": 1}}'.encode())

    assert field == key
    assert message == f"'{key}' is not a field Sparky knows: did you mean '{hint}'?"


def test_an_unknown_field_far_from_every_name_gets_no_guess() -> None:
    ((_, message),) = refusal(b'{"action": "buy", "zzzzzz": 1}')

    assert "did you mean" not in message
    assert "see the alert formats" in message


@pytest.mark.parametrize(
    ("key", "canonical"),
    [
        ("takeProfit", "take_profit"),
        ("takeprofit", "take_profit"),  # names are read whatever their case
        ("stopLoss", "stop_loss"),
        ("quantityType", "quantity_type"),
        ("orderType", "order_type"),
        ("limitPrice", "price"),
        ("signalPrice", "signal_price"),
        ("clientOrderId", "client_order_id"),
        ("order_id", "client_order_id"),
        ("tp_percent", "take_profit_percent"),
        ("sl_percent", "stop_loss_percent"),
        ("trail", "trailing_stop"),
    ],
)
def test_traderspost_and_other_tools_spellings_reach_the_canonical_field(
    key: str, canonical: str
) -> None:
    assert dict(parse_body(f'{{"{key}": "x"}}'.encode()).fields) == {canonical: "x"}


def test_interval_and_extras_are_accepted_and_ignored() -> None:
    parsed = parse_body(b'{"action": "buy", "interval": "15", "extras": {"a": [1, {"b": 2}]}}')

    assert dict(parsed.fields) == {"action": "buy"}
