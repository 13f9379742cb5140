"""Sending the verification link again is throttled per user and per address, like sign-in:
a signed-in but unverified session cannot make the app mail an inbox without end."""

from __future__ import annotations

from datetime import timedelta

from scripts.mailbox import Mailbox
from tests.helpers.billing import Clock
from tests.helpers.web import Browser, WebFactory, browser_of, mails_to
from tests.integration.web.test_auth_flow import EMAIL, PASSWORD, sign_up

OTHER = "grace@example.com"
SENT = "We sent a new link"
TOO_MANY = "You have asked for new links several times already"


async def _resend(browser: Browser) -> int:
    await browser.get("/security")  # the "verify your email" page, with its form
    answer = await browser.post("/verify/resend")
    assert (SENT in answer.text) == (answer.status_code == 200), answer.text
    assert (TOO_MANY in answer.text) == (answer.status_code == 429), answer.text
    return answer.status_code


async def _signed_in_unverified(browser: Browser, email: str) -> None:
    await sign_up(browser, email)
    assert (await browser.sign_in(email, PASSWORD)).status_code == 303


def _links(mailbox: Mailbox, email: str) -> int:
    return len([m for m in mails_to(mailbox, email) if "Confirm your email" in m.subject])


async def test_resending_the_link_is_limited_per_user_then_per_address(
    web_factory: WebFactory, mailbox: Mailbox, clock: Clock
) -> None:
    limits = {"resend_per_user": 2, "resend_per_address": 3, "resend_window_minutes": 60}
    async with web_factory(**limits) as app, browser_of(app) as ada, browser_of(app) as grace:
        await _signed_in_unverified(ada, EMAIL)
        assert [await _resend(ada) for _ in range(3)] == [200, 200, 429]
        assert _links(mailbox, EMAIL) == 3  # the sign-up's and two resent
        await _signed_in_unverified(grace, OTHER)
        assert [await _resend(grace) for _ in range(2)] == [200, 429]  # the address's 3
        assert _links(mailbox, OTHER) == 2
        clock.advance(timedelta(minutes=61))
        assert await _resend(ada) == 200  # the window moved on
        assert _links(mailbox, EMAIL) == 4
