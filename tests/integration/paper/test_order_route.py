"""``/api/v3/order`` answers the same bytes through the plain route as through FastAPI.

Two exchanges in this process, one serving the path through FastAPI's dependency layers and
one through the plain route, each on its own state file and the same frozen clock, receive
the same requests; every answer must match: status, headers and body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx
from asgi_lifespan import LifespanManager

from libs.common.config import load_settings
from services.paper import signing
from services.paper.app import create_app
from services.paper.config import PaperSettings

NOW_MS = 1_767_225_600_000
TOKEN = "sop_order-route-test-admin-token"
ORDER = "/api/v3/order"
KEY = "X-MBX-APIKEY"


@asynccontextmanager
async def _exchange(
    state: Path, *, plain: bool
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    settings = load_settings(
        PaperSettings,
        state_path=state / f"plain-{plain}.sqlite3",
        admin_token=TOKEN,
        price_feed="fixed",
        plain_order_route=plain,
    )
    app = create_app(settings, clock=lambda: NOW_MS)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 4567))
        async with httpx.AsyncClient(transport=transport, base_url="http://paper") as http:
            created = await http.post(
                "/admin/accounts",
                json={"label": "route", "balances": {"USDT": "100000", "BTC": "1"}},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            yield http, created.json()


def _signed(params: dict[str, str], secret: str, *, tamper: bool = False) -> str:
    payload = urlencode({**params, "timestamp": str(NOW_MS), "recvWindow": "10000"})
    signature = signing.sign(payload, secret)
    return f"{payload}&signature={'0' * 64 if tamper else signature}"


async def _script(http: httpx.AsyncClient, account: dict[str, str]) -> list[httpx.Response]:
    """The same requests, in order, with the account's own keys."""
    key = {"X-MBX-APIKEY": account["api_key"], "Content-Type": "application/x-www-form-urlencoded"}
    secret = account["secret"]
    market = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "MARKET",
        "quantity": "0.01",
        "newClientOrderId": "route-1",
        "newOrderRespType": "FULL",
    }
    limit = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01",
        "price": "50000",
        "newClientOrderId": "route-2",
    }
    answers = [
        await http.post(ORDER, content=_signed(market, secret), headers=key),
        await http.post(ORDER, content=_signed(limit, secret), headers=key),
        await http.post(ORDER, content=_signed(limit, secret), headers=key),  # duplicate
        await http.post(ORDER, content=_signed({**market, "quantity": "99"}, secret), headers=key),
        await http.post(ORDER, content=_signed(market, secret, tamper=True), headers=key),
        await http.post(ORDER, content=_signed(market, secret)),  # no API key
        await http.post(ORDER, content=_signed(market, secret) + "%C3%A9", headers=key),
        await http.post(ORDER, content=_signed(market, secret), headers={**key, KEY: "a\tb"}),
        await http.post(ORDER, content=_signed({"symbol": "BTCUSDT"}, secret), headers=key),
    ]
    lookup = _signed({"symbol": "BTCUSDT", "origClientOrderId": "route-2"}, secret)
    cancel = _signed(
        {"symbol": "BTCUSDT", "origClientOrderId": "route-2", "newClientOrderId": "cancel-2"},
        secret,
    )
    answers.append(await http.get(f"{ORDER}?{lookup}", headers=key))
    answers.append(await http.delete(f"{ORDER}?{cancel}", headers=key))
    answers.append(await http.delete(f"{ORDER}?{cancel}", headers=key))  # no longer open
    await http.post(
        "/admin/faults",
        json={"kind": "error", "count": 1, "status": 503},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    answers.append(await http.post(ORDER, content=_signed(market, secret), headers=key))
    return answers


async def test_the_plain_order_route_answers_exactly_what_fastapi_answers(tmp_path: Path) -> None:
    async with _exchange(tmp_path, plain=False) as (http, account):
        through_fastapi = await _script(http, account)
    async with _exchange(tmp_path, plain=True) as (http, account):
        plain = await _script(http, account)
    statuses = [a.status_code for a in plain]
    assert statuses == [200, 200, 400, 400, 400, 401, 400, 401, 400, 200, 200, 400, 503]
    for fastapi_answer, plain_answer in zip(through_fastapi, plain, strict=True):
        assert plain_answer.status_code == fastapi_answer.status_code
        assert plain_answer.headers.multi_items() == fastapi_answer.headers.multi_items()
        assert plain_answer.content == fastapi_answer.content


async def test_the_openapi_document_still_describes_the_order_route(tmp_path: Path) -> None:
    async with _exchange(tmp_path, plain=True) as (http, _):
        document = (await http.get("/openapi.json")).json()
    assert set(document["paths"][ORDER]) == {"post", "get", "delete"}
