"""CSRF, throttling, no user enumeration, security headers, reset links, TOTP, and a sign-up
that billing could not finish."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
from fastapi import FastAPI

from scripts.mailbox import Mailbox
from services.web.headers import CSP
from tests.helpers.billing import Clock
from tests.helpers.ports import free_port
from tests.helpers.web import Browser, WebFactory, browser_of, link_in, mail_to, mails_to
from tests.integration.web.test_auth_flow import (
    EMAIL,
    PASSWORD,
    sign_up,
    signed_up_and_verified,
)

WRONG = "That email and password do not match an account."


async def test_posts_without_this_browsers_csrf_token_are_refused(
    web: FastAPI, browser: Browser, mailbox: Mailbox
) -> None:
    await browser.get("/login")
    bare = await browser.http.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert bare.status_code == 403
    assert "did not come from this site" in bare.text
    async with browser_of(web) as attacker:
        await attacker.get("/login")  # a token valid for the attacker's own cookie only
        browser.csrf = attacker.csrf
    assert (await browser.post("/login", email=EMAIL, password=PASSWORD)).status_code == 403
    await signed_up_and_verified(browser, mailbox)
    await browser.sign_in(EMAIL, PASSWORD)
    pre_login_token = browser.csrf
    assert (await browser.post("/logout")).status_code == 403  # the pre-sign-in token
    await browser.get("/security")
    assert browser.csrf != pre_login_token
    header = await browser.http.post("/security/totp/start", headers={"X-CSRF-Token": browser.csrf})
    assert header.status_code == 303


async def test_an_unknown_email_and_a_wrong_password_get_the_same_answer_in_similar_time(
    browser: Browser, mailbox: Mailbox
) -> None:
    await signed_up_and_verified(browser, mailbox)

    async def timed(email: str) -> tuple[float, str]:
        started = time.perf_counter()
        answer = await browser.sign_in(email, "not the password at all")
        assert answer.status_code == 400
        return time.perf_counter() - started, answer.text.replace(email, "EMAIL")

    known = [await timed(EMAIL) for _ in range(3)]
    unknown = [await timed(f"nobody{i}@example.com") for i in range(3)]
    assert WRONG in known[0][1]
    assert {_without_csrf(text) for _, text in known + unknown} == {_without_csrf(known[0][1])}
    # Without the stand-in hash an unknown email answers many times faster than a known one.
    assert min(t for t, _ in unknown) > 0.5 * min(t for t, _ in known)


async def test_sign_up_answers_alike_for_a_taken_email_and_tells_its_owner(
    browser: Browser, mailbox: Mailbox
) -> None:
    await signed_up_and_verified(browser, mailbox)
    again = await browser.submit(
        "/signup", "/signup", email=EMAIL, password="another long password", name="Eve"
    )
    fresh = await browser.submit(
        "/signup", "/signup", email="new@example.com", password=PASSWORD, name="Bo"
    )
    assert again.status_code == fresh.status_code == 200
    assert _without_csrf(again.text.replace(EMAIL, "X")) == _without_csrf(
        fresh.text.replace("new@example.com", "X")
    )
    await mail_to(mailbox, EMAIL, "Someone tried to sign up")
    assert len([m for m in mails_to(mailbox, EMAIL) if "Confirm" in m.subject]) == 1


async def test_failed_sign_ins_are_throttled_per_account_then_per_address(
    web_factory: WebFactory, mailbox: Mailbox
) -> None:
    limits = {"throttle_per_account": 3, "throttle_per_address": 5}
    async with web_factory(**limits) as app, browser_of(app) as browser:
        await signed_up_and_verified(browser, mailbox)
        for _ in range(3):
            assert (await browser.sign_in(EMAIL, "wrong password!")).status_code == 400
        refused = await browser.sign_in(EMAIL, PASSWORD)  # even the right one, for now
        assert refused.status_code == 429
        assert "Too many failed sign-ins" in refused.text
        for i in range(2):
            await browser.sign_in(f"other{i}@example.com", "wrong password!")
        throttled = await browser.sign_in("fresh@example.com", "wrong password!")
        assert throttled.status_code == 429  # the address's 5 failures are used up


async def test_failures_older_than_the_window_no_longer_count(
    web_factory: WebFactory, mailbox: Mailbox, clock: Clock
) -> None:
    async with web_factory(throttle_per_account=2) as app, browser_of(app) as browser:
        await signed_up_and_verified(browser, mailbox)
        for _ in range(2):
            await browser.sign_in(EMAIL, "wrong password!")
        assert (await browser.sign_in(EMAIL, PASSWORD)).status_code == 429
        clock.advance(timedelta(minutes=16))
        assert (await browser.sign_in(EMAIL, PASSWORD)).status_code == 303


async def test_pages_carry_the_security_headers(web_factory: WebFactory) -> None:
    async with web_factory() as app, browser_of(app) as browser:
        page = await browser.get("/login")
        assert page.headers["content-security-policy"] == CSP
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "same-origin"
        assert page.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in page.headers
        assert "<script>" not in page.text
        assert "HttpOnly" in page.headers["set-cookie"]
    async with web_factory(cookie_secure=True) as app, browser_of(app) as browser:
        page = await browser.get("/login")
        assert page.headers["strict-transport-security"].startswith("max-age=")
        cookie = page.headers["set-cookie"].lower()
        assert "secure" in cookie
        assert "samesite=lax" in cookie


async def test_a_password_reset_link_works_once_and_signs_out_everywhere(
    web: FastAPI, browser: Browser, mailbox: Mailbox
) -> None:
    await signed_up_and_verified(browser, mailbox)
    await browser.sign_in(EMAIL, PASSWORD)
    async with browser_of(web) as other:
        asked = await other.submit("/password/forgot", "/password/forgot", email=EMAIL)
        unknown = await other.submit(
            "/password/forgot", "/password/forgot", email="ghost@example.com"
        )
        assert _without_csrf(asked.text.replace(EMAIL, "X")) == _without_csrf(
            unknown.text.replace("ghost@example.com", "X")
        )
        link = link_in(await mail_to(mailbox, EMAIL, "Reset your"), "/password/reset")
        await other.get(link)
        short = await other.post("/password/reset", token=link.split("token=")[1], password="short")
        assert short.status_code == 400
        assert "at least 10 characters" in short.text
        token = link.split("token=")[1]
        done = await other.post("/password/reset", token=token, password="a brand new password")
        assert done.headers["location"] == "/login?notice=reset"
        assert (
            await other.post("/password/reset", token=token, password="x" * 12)
        ).status_code == 400
    assert (await browser.get("/security")).status_code == 303  # signed out
    assert (await browser.sign_in(EMAIL, PASSWORD)).status_code == 400
    assert (await browser.sign_in(EMAIL, "a brand new password")).status_code == 303
    assert not mails_to(mailbox, "ghost@example.com")


async def test_two_factor_sign_in_once_confirmed_asks_for_a_fresh_code(
    browser: Browser, mailbox: Mailbox, clock: Clock
) -> None:
    await signed_up_and_verified(browser, mailbox)
    await browser.sign_in(EMAIL, PASSWORD)
    await browser.get("/security")
    enrolling = await browser.post("/security/totp/start")
    assert enrolling.status_code == 303
    page = await browser.get("/security")
    secret = page.text.split('id="totp-secret">')[1].split("<")[0]
    otp = pyotp.TOTP(secret)
    wrong = await browser.post("/security/totp/confirm", code="000000")
    assert wrong.status_code == 400
    on = await browser.post("/security/totp/confirm", code=otp.at(clock()))
    assert "Two-factor sign-in is on." in on.text
    await browser.post("/logout")
    asked = await browser.sign_in(EMAIL, PASSWORD)
    assert asked.status_code == 400
    assert "6-digit code" in asked.text
    replayed = await browser.sign_in(EMAIL, PASSWORD, totp=otp.at(clock()))
    assert replayed.status_code == 400  # the code used to confirm cannot sign in
    clock.advance(timedelta(seconds=30))
    assert (await browser.sign_in(EMAIL, PASSWORD, totp=otp.at(clock()))).status_code == 303


async def test_a_sign_up_billing_could_not_finish_is_finished_at_sign_in(
    web_factory: WebFactory, mailbox: Mailbox
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # billing down
    async with web_factory(billing_url=nowhere) as app, browser_of(app) as browser:
        await sign_up(browser)
        mail = await mail_to(mailbox, EMAIL, "Confirm your email")
        await browser.get(link_in(mail, "/verify"))
        refused = await browser.sign_in(EMAIL, PASSWORD)
        assert refused.status_code == 503
        assert "could not finish setting up your account" in refused.text
        user = await app.state.runtime.users.find(EMAIL)
        assert user.tenant_id is None
    async with web_factory() as app, browser_of(app) as browser:
        assert (await browser.sign_in(EMAIL, PASSWORD)).status_code == 303
        user = await app.state.runtime.users.find(EMAIL)
        assert user.tenant_id is not None
        assert (await browser.get("/security")).status_code == 200


def _without_csrf(text: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", text)
