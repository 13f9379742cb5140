"""Signed requests are checked exactly as Binance documents it."""

from __future__ import annotations

import pytest

from services.paper import signing
from services.paper.errors import BinanceError

# The example of Binance's "SIGNED endpoint security" documentation.
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
QUERY = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
BODY = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
NOW = 1499827319559


def test_a_signature_over_the_query_string_matches_binances_example() -> None:
    query = f"{QUERY}&{BODY}"
    signature = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    payload, sent = signing.split_signature(f"{query}&signature={signature}", "")
    assert (payload, sent) == (query, signature)
    assert signing.verify(payload, signature, SECRET)


def test_a_signature_over_query_and_body_together_matches_binances_example() -> None:
    signature = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
    payload, sent = signing.split_signature(QUERY, f"{BODY}&signature={signature}")
    assert payload == QUERY + BODY  # Binance concatenates them without a separator
    assert sent == signature
    assert signing.verify(payload, signature.upper(), SECRET)


def test_a_changed_parameter_breaks_the_signature() -> None:
    signature = signing.sign(f"{QUERY}&{BODY}", SECRET)
    assert not signing.verify(
        f"{QUERY}&{BODY}".replace("quantity=1", "quantity=9"), signature, SECRET
    )
    assert not signing.verify(f"{QUERY}&{BODY}", signature, SECRET[:-1])


def test_parameters_are_decoded_and_the_query_wins_over_the_body() -> None:
    params = signing.parameters("symbol=BTCUSDT&newClientOrderId=a%3Ab", "symbol=ETHUSDT&x=1")
    assert params == {"symbol": "BTCUSDT", "newClientOrderId": "a:b", "x": "1"}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, -1102),
        ({"timestamp": "soon"}, -1100),
        ({"timestamp": str(NOW - 5001)}, -1021),
        ({"timestamp": str(NOW - 9000), "recvWindow": "8000"}, -1021),
        ({"timestamp": str(NOW + 1000)}, -1021),
        ({"timestamp": str(NOW), "recvWindow": "60001"}, -1131),
    ],
)
def test_a_request_outside_its_window_is_refused(params: dict[str, str], code: int) -> None:
    with pytest.raises(BinanceError) as refused:
        signing.check_timestamp(params, NOW, 60_000)
    assert refused.value.code == code


@pytest.mark.parametrize(
    "params",
    [
        {"timestamp": str(NOW - 5000)},
        {"timestamp": str(NOW + 999)},
        {"timestamp": str(NOW - 59_000), "recvWindow": "60000"},
    ],
)
def test_a_request_inside_its_window_passes(params: dict[str, str]) -> None:
    signing.check_timestamp(params, NOW, 60_000)


@pytest.mark.parametrize(
    "signature",
    [
        "é" * 64,  # non-ASCII: hmac.compare_digest would raise on it
        "\ufffd",  # what a %FF decodes to
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b7é",
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b7",  # one digit short
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b711",  # one too many
        "z" * 64,  # not hex
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71\n",
        "",
    ],
)
def test_a_malformed_signature_is_not_valid_and_never_raises(signature: str) -> None:
    assert not signing.well_formed(signature)
    assert not signing.verify(f"{QUERY}&{BODY}", signature, SECRET)
