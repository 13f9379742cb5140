"""A request the HTTP parser cannot read is answered in Binance's shape, not uvicorn's text."""

from __future__ import annotations

import json

import httptools
import pytest

from services.paper.protocol import answer_bytes, unreadable_answer


def _parser_error(request: bytes) -> httptools.HttpParserError:
    parser = httptools.HttpRequestParser(object())
    with pytest.raises(httptools.HttpParserError) as refused:
        parser.feed_data(request)
    return refused.value


@pytest.mark.parametrize("key", [b"ab\x01cd", b"abc\x7f", b"a\x00b", b"a\x1bb"])
def test_a_key_with_control_characters_is_an_invalid_key_format(key: bytes) -> None:
    request = b"GET /api/v3/account HTTP/1.1\r\nHost: x\r\nX-MBX-APIKEY: " + key + b"\r\n\r\n"
    error = unreadable_answer(_parser_error(request))
    assert (error.status, error.code, error.msg) == (401, -2014, "API-key format invalid.")


def test_a_raw_non_ascii_signature_in_the_url_is_an_invalid_signature() -> None:
    request = b"GET /api/v3/account?timestamp=1&signature=\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n"
    error = unreadable_answer(_parser_error(request))
    assert (error.status, error.code) == (400, -1022)
    assert error.msg == "Signature for this request is not valid."


def test_the_answer_is_whole_closes_the_connection_and_carries_binances_body() -> None:
    error = unreadable_answer(_parser_error(b"GE\x01T / HTTP/1.1\r\n\r\n"))
    head, _, body = answer_bytes(error).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"connection: close" in head
    assert b"content-length: %d" % len(body) in head
    assert json.loads(body) == {"code": -1022, "msg": "Signature for this request is not valid."}
