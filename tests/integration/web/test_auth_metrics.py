"""The auth pages count what the web app's dashboard shows: sign-ups, sign-ins and mail by
outcome (`sparky_web_signups_total`, `sparky_web_logins_total`, `sparky_web_emails_total`),
read from prometheus_client's registry before and after real flows."""

from __future__ import annotations

import pyotp
from prometheus_client import REGISTRY

from scripts.mailbox import Mailbox
from tests.helpers.billing import Clock
from tests.helpers.ports import free_port
from tests.helpers.web import Browser, WebFactory, browser_of, mail_to
from tests.integration.web.test_auth_flow import EMAIL, PASSWORD, sign_up, signed_up_and_verified

SERIES: dict[str, tuple[str, list[tuple[str, ...]]]] = {
    "signups": ("sparky_web_signups_total", [("created",), ("refused",), ("failed",)]),
    "logins": (
        "sparky_web_logins_total",
        [("success",), ("failure",), ("throttled",), ("totp_required",)],
    ),
    "emails": (
        "sparky_web_emails_total",
        [(k, o) for k in ("verify", "reset", "notice") for o in ("sent", "failed")],
    ),
}
LABELS = {"signups": ("outcome",), "logins": ("outcome",), "emails": ("kind", "outcome")}


def _counts() -> dict[str, float]:
    counts = {}
    for group, (name, values) in SERIES.items():
        for value in values:
            labels = dict(zip(LABELS[group], value, strict=True))
            counts[".".join((group, *value))] = REGISTRY.get_sample_value(name, labels) or 0.0
    return counts


def _changes(before: dict[str, float]) -> dict[str, float]:
    after = _counts()
    return {key: after[key] - before[key] for key in after if after[key] != before[key]}


async def test_sign_ups_and_their_mail_are_counted_by_outcome(
    web_factory: WebFactory, mailbox: Mailbox
) -> None:
    async with web_factory() as app, browser_of(app) as browser:
        before = _counts()
        short = await browser.submit("/signup", "/signup", email=EMAIL, password="short")
        assert short.status_code == 400
        await sign_up(browser)
        await mail_to(mailbox, EMAIL, "Confirm your email")
        await browser.submit("/signup", "/signup", email=EMAIL, password="another password!")
        await mail_to(mailbox, EMAIL, "Someone tried to sign up")
        await browser.submit("/password/forgot", "/password/forgot", email=EMAIL)
        await mail_to(mailbox, EMAIL, "Reset your")
        assert _changes(before) == {
            "signups.refused": 2,  # a short password; an address that has an account
            "signups.created": 1,
            "emails.verify.sent": 1,
            "emails.notice.sent": 1,
            "emails.reset.sent": 1,
        }


async def test_a_sign_up_billing_and_the_mail_server_could_not_take_is_counted_as_failed(
    web_factory: WebFactory,
) -> None:
    down = {"billing_url": f"http://127.0.0.1:{free_port()}", "smtp_port": free_port()}
    async with web_factory(**down) as app, browser_of(app) as browser:
        before = _counts()
        await sign_up(browser)  # billing's call and the mail happen before this returns
        assert _changes(before) == {"signups.failed": 1, "emails.verify.failed": 1}


async def test_sign_ins_are_counted_by_outcome(
    web_factory: WebFactory, mailbox: Mailbox, clock: Clock
) -> None:
    async with web_factory(throttle_per_account=2) as app, browser_of(app) as browser:
        await signed_up_and_verified(browser, mailbox)
        before = _counts()
        assert (await browser.sign_in(EMAIL, "wrong password!")).status_code == 400
        assert (await browser.sign_in(EMAIL, PASSWORD)).status_code == 303
        assert _changes(before) == {"logins.failure": 1, "logins.success": 1}
        await _turn_on_two_factor(browser, clock)
        await browser.post("/logout")
        before = _counts()
        assert (await browser.sign_in(EMAIL, PASSWORD)).status_code == 400  # code asked for
        assert (await browser.sign_in(EMAIL, PASSWORD, totp="000000")).status_code == 400
        assert (await browser.sign_in(EMAIL, "wrong password!")).status_code == 400
        assert (await browser.sign_in(EMAIL, PASSWORD)).status_code == 429
        assert _changes(before) == {
            "logins.totp_required": 1,
            "logins.failure": 2,  # a wrong code, a wrong password
            "logins.throttled": 1,
        }


async def _turn_on_two_factor(browser: Browser, clock: Clock) -> None:
    await browser.get("/security")
    await browser.post("/security/totp/start")
    page = await browser.get("/security")
    secret = page.text.split('id="totp-secret">')[1].split("<")[0]
    on = await browser.post("/security/totp/confirm", code=pyotp.TOTP(secret).at(clock()))
    assert "Two-factor sign-in is on." in on.text
