"""The trade-settings form against the real router: settings typed into their inputs reach the
router's layer, an empty input inherits, the router's refusal shows by its input with what was
typed kept, a concurrent change is refused in words, and only a stored layer can be removed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from html import unescape
from typing import Any

import httpx
import pytest

from scripts.devstack import Stack
from tests.helpers.web_pages import Signed, csrf_of

pytestmark = pytest.mark.asyncio(loop_scope="module")
PAGE = "/settings/trade"
TENANT = {"form_key": "/", "account": "", "symbol": ""}
Form = Mapping[str, str | list[str]]


def _section(html: str, form_key: str) -> str:
    """The layer's card: from its section to the next one."""
    for card in re.findall(r'<section class="card layer".*?</section>', html, re.S):
        if f'name="form_key" value="{form_key}"' in card:
            return str(card)
    raise AssertionError(f"no layer form {form_key!r} on the page")


def _version(html: str, form_key: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', _section(html, form_key))
    assert found, "the layer form carries its version"
    return found.group(1)


def _input(html: str, element_id: str) -> str:
    found = re.search(rf'<input id="{element_id}"[^>]*value="([^"]*)"', html)
    assert found, f"no input#{element_id}"
    return unescape(found.group(1))


def _error(html: str, element_id: str) -> str:
    found = re.search(rf'<p class="error" id="{element_id}-error"[^>]*>(.*?)</p>', html, re.S)
    assert found, f"no error next to #{element_id}"
    return unescape(found.group(1))


async def _save(signed: Signed, fields: Form, version: str | None = None) -> httpx.Response:
    """Post a layer's form as the browser does: the page's token and the layer's version."""
    html = (await signed.browser.get(PAGE)).text
    key = str(fields["form_key"])
    data = {"csrf_token": csrf_of(html), "version": version or _version(html, key), **fields}
    return await signed.browser.post(PAGE + "/layer", data=data)


async def _router(stack: Stack, signed: Signed, path: str, **params: str) -> Any:
    async with httpx.AsyncClient() as client:
        found = await client.get(
            f"{stack.cfg.url('router')}/api/v1/settings{path}",
            headers=signed.trader.auth,
            params=params,
        )
    return found.json() if found.status_code == 200 else None


async def test_only_a_stored_layer_offers_remove(ann: Signed) -> None:
    html = (await ann.browser.get(PAGE)).text
    tenant = _section(html, "/")
    assert 'data-exists="false"' in tenant
    assert "Remove this layer" not in tenant  # no tenant layer yet: nothing to remove
    assert _version(html, "/") == "0"  # saving it must not replace one made meanwhile
    saved = await _save(ann, TENANT | {"s.max_open_positions": "7"})
    assert saved.status_code == 303
    html = (await ann.browser.get(PAGE)).text
    assert "Remove this layer" in _section(html, "/")
    removed = await ann.browser.post(
        PAGE + "/layer/delete",
        data={"csrf_token": csrf_of(html), "account": "", "symbol": "", "version": "1"},
    )
    assert removed.status_code == 303
    assert "Remove this layer" not in _section((await ann.browser.get(PAGE)).text, "/")


async def test_fields_typed_in_the_form_reach_the_router_and_empty_ones_inherit(
    ann: Signed, stack: Stack
) -> None:
    tenant = await _save(
        ann,
        TENANT
        | {
            "s.enabled": "true",
            "s.quantity": "0.002",
            "s.margin_mode": "",
            "s.paused_strategies": "Breakout 4h\n\nEMA cross\n",
            "s.trading_windows.0.days": ["mon", "fri"],
            "s.trading_windows.0.start": "08:00",
            "s.trading_windows.0.end": "20:00",
            "s.trading_windows.1.start": "",
            "s.trading_windows.1.end": "",
        },
    )
    assert tenant.status_code == 303, tenant.text[:400]
    stored = (await _router(stack, ann, "/tenant"))["settings"]
    assert stored["enabled"] is True
    assert Decimal(stored["quantity"]) == Decimal("0.002")
    assert stored["paused_strategies"] == ["Breakout 4h", "EMA cross"]
    [window] = stored["trading_windows"]
    assert (window["days"], window["start"][:5], window["end"][:5]) == (
        ["mon", "fri"],
        "08:00",
        "20:00",
    )
    assert "margin_mode" not in stored  # left empty: inherited

    account = await _save(
        ann,
        {"form_key": "new", "account": "main", "symbol": "", "s.leverage": "3", "s.quantity": ""},
    )
    assert account.status_code == 303, account.text[:400]
    assert (await _router(stack, ann, "/accounts/main"))["settings"] == {"leverage": "3"}
    effective = (await _router(stack, ann, "/effective", account="main"))["settings"]
    assert Decimal(effective["quantity"]) == Decimal("0.002")  # from the tenant layer
    html = (await ann.browser.get(PAGE)).text
    card = _section(html, "main/")
    quantity = re.search(r'data-setting="quantity".*?<p class="in-force">(.*?)</p>', card, re.S)
    assert quantity
    assert re.sub(r"<[^>]+>", "", quantity.group(1)) == "Inherited: 0.002"
    assert _input(_section(html, "/"), "layer-0-quantity") == "0.002"
    assert 'value="fri" checked' in _section(html, "/")


async def test_the_routers_refusal_is_shown_by_its_field_with_the_input_kept(
    ann: Signed, stack: Stack
) -> None:
    before = await _router(stack, ann, "/tenant")
    refused = await _save(
        ann,
        TENANT
        | {
            "s.quantity": "0.5",
            "s.max_open_positions": "-1",
            "s.trading_windows.0.days": ["sat"],
            "s.trading_windows.0.start": "08:00",
        },
    )
    assert refused.status_code == 422
    html = refused.text
    assert "greater than or equal to 0" in _error(html, "layer-0-max_open_positions")
    assert "required" in _error(html, "layer-0-trading_windows-0-end").lower()
    assert _input(html, "layer-0-max_open_positions") == "-1"
    assert _input(html, "layer-0-quantity") == "0.5"
    assert (await _router(stack, ann, "/tenant")) == before  # nothing was saved
    local = await _save(ann, TENANT | {"s.quantity": "a lot"})
    assert local.status_code == 400
    assert _error(local.text, "layer-0-quantity") == "Enter a number, like 0.5."
    huge = await _save(ann, TENANT | {"s.paused_strategies": "x\n" * 30_000})
    assert huge.status_code == 413
    assert "too long" in huge.text
    assert (await _router(stack, ann, "/tenant")) == before


async def test_a_concurrent_change_is_refused_in_words_and_the_input_kept(
    ann: Signed, stack: Stack
) -> None:
    html = (await ann.browser.get(PAGE)).text
    seen = _version(html, "/")
    async with httpx.AsyncClient() as client:
        elsewhere = await client.put(
            f"{stack.cfg.url('router')}/api/v1/settings/tenant",
            headers=ann.trader.auth | {"If-Match": seen},
            json={"quantity": "9"},
        )
    assert elsewhere.status_code == 200
    stale = await _save(ann, TENANT | {"s.quantity": "0.7"}, version=seen)
    assert stale.status_code == 412
    assert "changed meanwhile" in stale.text
    assert _input(stale.text, "layer-0-quantity") == "0.7"
    assert Decimal((await _router(stack, ann, "/tenant"))["settings"]["quantity"]) == 9
    again = await ann.browser.post(
        PAGE + "/layer",
        data={
            "csrf_token": csrf_of(stale.text),
            "version": _version(stale.text, "/"),
            **TENANT,
            "s.quantity": "0.7",
        },
    )
    assert again.status_code == 303  # the re-shown form carries the version now stored
    assert (await _router(stack, ann, "/tenant"))["settings"] == {"quantity": "0.7"}
