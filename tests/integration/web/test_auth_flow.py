"""A trader signs up, confirms the email, signs in and out; billing makes their tenant."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request

from scripts.mailbox import Mailbox
from services.web.session import SignedIn
from services.web.tenant_keys import kept_webhook_token, tenant_api_key
from tests.helpers.web import Browser, browser_of, link_in, mail_to

EMAIL, PASSWORD = "ada@example.com", "correct horse battery"


async def sign_up(browser: Browser, email: str = EMAIL, password: str = PASSWORD) -> None:
    answer = await browser.submit("/signup", "/signup", email=email, password=password, name="Ada")
    assert answer.status_code == 200, answer.text
    assert "Check your inbox" in answer.text


async def signed_up_and_verified(browser: Browser, mailbox: Mailbox, email: str = EMAIL) -> None:
    await sign_up(browser, email)
    mail = await mail_to(mailbox, email, "Confirm your email")
    verified = await browser.get(link_in(mail, "/verify"))
    assert verified.status_code == 303


async def test_a_trader_signs_up_confirms_and_signs_in_with_a_tenant_of_their_own(
    web: FastAPI, browser: Browser, mailbox: Mailbox, billing_url: str
) -> None:
    await sign_up(browser)
    mail = await mail_to(mailbox, EMAIL, "Confirm your email")
    signed_in = await browser.sign_in(EMAIL, PASSWORD)
    assert signed_in.status_code == 303
    pending = await browser.get("/security")
    assert "Verify your email" in pending.text  # everything waits for the confirmation
    assert (await browser.get(link_in(mail, "/verify"))).headers["location"] == "/"
    page = await browser.get("/security")
    assert page.status_code == 200
    assert "Two-factor sign-in" in page.text
    user = await web.state.runtime.users.find(EMAIL.upper())
    assert user is not None
    assert user.verified
    assert user.tenant_id is not None
    me = SignedIn(user.user_id, user.tenant_id, EMAIL, "", "", totp_enabled=False)
    request = _request_of(web)
    key = await tenant_api_key(request, me)
    async with httpx.AsyncClient(base_url=billing_url) as billing:
        hooks = await billing.get("/api/v1/webhooks", headers={"Authorization": f"Bearer {key}"})
    assert hooks.status_code == 200
    (hook,) = hooks.json()
    token = await kept_webhook_token(request, me, hook["webhook_id"])
    assert token is not None
    assert token.startswith("whk_")


async def test_a_used_verification_link_does_not_work_again(
    browser: Browser, mailbox: Mailbox
) -> None:
    await sign_up(browser)
    link = link_in(await mail_to(mailbox, EMAIL, "Confirm your email"), "/verify")
    assert (await browser.get(link)).status_code == 303
    again = await browser.get(link)
    assert again.status_code == 400
    assert "expired or was used already" in again.text


async def test_signing_out_ends_the_session(browser: Browser, mailbox: Mailbox) -> None:
    await signed_up_and_verified(browser, mailbox)
    await browser.sign_in(EMAIL, PASSWORD)
    cookie = browser.http.cookies["sparky_session"]
    await browser.get("/security")
    out = await browser.post("/logout")
    assert out.headers["location"] == "/login?notice=signed-out"
    browser.http.cookies.set("sparky_session", cookie)  # a copy of the cookie kept elsewhere
    again = await browser.get("/security")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login")


async def test_signing_out_everywhere_ends_every_session(
    web: FastAPI, browser: Browser, mailbox: Mailbox
) -> None:
    await signed_up_and_verified(browser, mailbox)
    async with browser_of(web) as phone:
        await phone.sign_in(EMAIL, PASSWORD)
        assert (await phone.get("/security")).status_code == 200
        await browser.sign_in(EMAIL, PASSWORD)
        await browser.get("/security")
        out = await browser.post("/security/sessions/revoke")
        assert out.headers["location"] == "/login?notice=everywhere"
        assert (await phone.get("/security")).status_code == 303


def _request_of(app: FastAPI) -> Request:
    """A request of ``app`` (the tenant_keys functions read only ``request.app``)."""
    return Request({"type": "http", "app": app, "headers": []})
