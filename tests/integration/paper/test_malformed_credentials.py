"""Any malformed signature or API key gets Binance's 400 or 401, never a 500.

Raw requests against the paper exchange process, on the spot and futures routes, the plain
``/api/v3/order`` route among them; the signature sent in the query string or the form body.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlencode

import httpx
import pytest

from services.paper import signing
from tests.helpers.paper import PaperAccount, PaperExchangeProcess

BAD_SIGNATURE = {"code": -1022, "msg": "Signature for this request is not valid."}
BAD_KEY_FORMAT = {"code": -2014, "msg": "API-key format invalid."}
FORM = (b"Content-Type", b"application/x-www-form-urlencoded")

ROUTES = [
    ("POST", "/api/v3/order"),  # the plain route
    ("GET", "/api/v3/order"),
    ("GET", "/api/v3/account"),
    ("POST", "/fapi/v1/order"),
    ("GET", "/fapi/v2/account"),
]
SIGNATURES = [
    pytest.param("%C3%A9" * 32, id="non-ascii-encoded"),
    pytest.param("é" * 32, id="non-ascii-raw-utf8"),
    pytest.param("%FF", id="not-utf8"),
    pytest.param("ab" * 31, id="too-short"),
    pytest.param("ab" * 33, id="too-long"),
    pytest.param("zz" * 32, id="not-hex"),
    pytest.param("%00" * 64, id="control-characters"),
]
KEYS = [
    pytest.param("é".encode() * 32, id="non-ascii"),
    pytest.param(b"ab\x01cd", id="control-character"),
    pytest.param(b"ab\x7fcd", id="delete"),
    pytest.param(b"ab\tcd", id="tab"),
    pytest.param(b"a" * 129, id="too-long"),
]


def _params() -> str:
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}
    return urlencode({**params, "timestamp": str(int(time.time() * 1000))})


async def _send(
    paper: PaperExchangeProcess, method: str, path: str, key: bytes, signature: str, *, body: bool
) -> httpx.Response:
    signed = f"{_params()}&signature={signature}"
    headers = [(b"X-MBX-APIKEY", key), FORM]
    async with httpx.AsyncClient(base_url=paper.base_url, timeout=10) as http:
        if body:  # the bytes as given, raw UTF-8 and all
            return await http.request(method, path, content=signed.encode(), headers=headers)
        # httpx percent-encodes a raw é in the URL and keeps the escapes already there.
        return await http.request(method, f"{path}?{signed}", headers=headers)


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("signature", SIGNATURES)
async def test_a_malformed_signature_in_the_query_is_refused_as_not_valid(
    paper: PaperExchangeProcess, account: PaperAccount, method: str, path: str, signature: str
) -> None:
    key = account.api_key.encode()
    answer = await _send(paper, method, path, key, signature, body=False)
    assert (answer.status_code, answer.json()) == (400, BAD_SIGNATURE)


@pytest.mark.parametrize("path", ["/api/v3/order", "/fapi/v1/order"])
@pytest.mark.parametrize("signature", SIGNATURES)
async def test_a_malformed_signature_in_the_form_body_is_refused_as_not_valid(
    paper: PaperExchangeProcess, account: PaperAccount, path: str, signature: str
) -> None:
    key = account.api_key.encode()
    answer = await _send(paper, "POST", path, key, signature, body=True)
    assert (answer.status_code, answer.json()) == (400, BAD_SIGNATURE)


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("key", KEYS)
async def test_a_malformed_api_key_is_refused_as_an_invalid_key_format(
    paper: PaperExchangeProcess, account: PaperAccount, method: str, path: str, key: bytes
) -> None:
    signature = signing.sign(_params(), account.secret)
    answer = await _send(paper, method, path, key, signature, body=method == "POST")
    assert (answer.status_code, answer.json()) == (401, BAD_KEY_FORMAT)


async def _raw(paper: PaperExchangeProcess, request: bytes) -> tuple[bytes, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", paper.port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)  # the server closes
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0], body


async def test_an_unencoded_non_ascii_signature_in_the_url_gets_binances_answer(
    paper: PaperExchangeProcess, account: PaperAccount
) -> None:
    request = (
        f"GET /api/v3/account?{_params()}&signature=".encode()
        + "é".encode() * 32
        + f" HTTP/1.1\r\nHost: paper\r\nX-MBX-APIKEY: {account.api_key}\r\n\r\n".encode()
    )
    status, body = await _raw(paper, request)
    assert (status, httpx.Response(400, content=body).json()) == (
        b"HTTP/1.1 400 Bad Request",
        BAD_SIGNATURE,
    )


async def test_a_key_with_a_nul_byte_gets_binances_answer(paper: PaperExchangeProcess) -> None:
    request = (
        f"GET /fapi/v2/account?{_params()}&signature={'ab' * 32} HTTP/1.1\r\n".encode()
        + b"Host: paper\r\nX-MBX-APIKEY: ab\x00cd\r\n\r\n"
    )
    status, body = await _raw(paper, request)
    assert (status, httpx.Response(401, content=body).json()) == (
        b"HTTP/1.1 401 Unauthorized",
        BAD_KEY_FORMAT,
    )
