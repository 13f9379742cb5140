"""The sign-up form is throttled per email and per client address: every form may mail the
address (the link, or "someone tried to sign up"), so nobody can flood an inbox through it, and
the answer is the same whether the email has an account or not."""

from __future__ import annotations

from datetime import timedelta

from scripts.mailbox import Mailbox
from tests.helpers.billing import Clock
from tests.helpers.web import Browser, WebFactory, browser_of, mails_to
from tests.integration.web.test_auth_flow import EMAIL, PASSWORD, sign_up

TOO_MANY = "has sent the sign-up form several times already"


async def _sign_up_status(browser: Browser, email: str, password: str = PASSWORD) -> int:
    answer = await browser.submit("/signup", "/signup", email=email, password=password, name="X")
    assert (TOO_MANY in answer.text) == (answer.status_code == 429), answer.text
    return answer.status_code


async def test_sending_the_form_again_and_again_cannot_flood_an_inbox(
    web_factory: WebFactory, mailbox: Mailbox, clock: Clock
) -> None:
    limits = {"signup_per_email": 2, "signup_per_address": 100, "resend_window_minutes": 60}
    async with web_factory(**limits) as app, browser_of(app) as owner, browser_of(app) as other:
        await sign_up(owner, EMAIL)
        attempts = [await _sign_up_status(other, EMAIL, "another-password-123") for _ in range(4)]
        assert attempts == [200, 429, 429, 429]
        tried = [m for m in mails_to(mailbox, EMAIL) if "Someone tried" in m.subject]
        assert len(tried) == 1  # the owner's inbox got one notice, not four
        assert await _sign_up_status(other, "unknown@example.com") == 200  # other emails work
        clock.advance(timedelta(minutes=61))
        assert await _sign_up_status(other, EMAIL, "another-password-123") == 200


async def test_one_address_cannot_open_accounts_without_end(
    web_factory: WebFactory, mailbox: Mailbox
) -> None:
    limits = {"signup_per_email": 5, "signup_per_address": 2}
    async with web_factory(**limits) as app, browser_of(app) as bot:
        emails = [f"bot{n}@example.com" for n in range(3)]
        assert [await _sign_up_status(bot, email) for email in emails] == [200, 200, 429]
        assert mails_to(mailbox, emails[2]) == []
