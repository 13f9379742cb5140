"""The demo trader of the web app, made the way a person makes one: through its own pages.

`make run` signs up ``demo-<random>@sparky.localhost`` at ``/signup`` (a tenant on the free
plan, with its first webhook: billing's sign-up API, called by the web app), reads the
verification mail from the local mailbox (`scripts.mailbox`), opens its link, keeps the login in
``<data>/demo-web-<namespace>.json`` (mode 0600). A later run signs in with the kept login
and signs up again only when that fails (a wiped database). The trader then opens a paper
account in the onboarding page, as anyone would.
"""

from __future__ import annotations

import asyncio
import html
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from scripts.devstack import StackConfig
from scripts.mailbox import Mailbox
from scripts.private_files import read_private_json, write_private_json

DEMO_DOMAIN = "sparky.localhost"
DEMO_NAME = "Demo trader"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@dataclass(frozen=True)
class WebLogin:
    """The demo trader's login to the web app."""

    email: str
    password: str


def csrf_token(page: str) -> str:
    """Return the hidden ``csrf_token`` of the first form of an HTML page."""
    found = _CSRF.search(page)
    if not found:
        raise RuntimeError("the web app's page has no csrf_token field")
    return html.unescape(found.group(1) or found.group(2))


async def post_form(
    http: httpx.AsyncClient, url: str, path: str, fields: dict[str, str]
) -> httpx.Response:
    """Open the form at ``path`` (its session cookie and CSRF token), then submit ``fields``."""
    page = await http.get(url + path)
    page.raise_for_status()
    data = fields | {"csrf_token": csrf_token(page.text)}
    return await http.post(url + path, data=data)


async def signed_in(http: httpx.AsyncClient, url: str, login: WebLogin) -> bool:
    """Sign in; return whether the web app took the login (it sends you on, not back)."""
    resp = await post_form(http, url, "/login", asdict(login))
    return resp.is_redirect and "/login" not in resp.headers.get("location", "")


async def sign_up(
    http: httpx.AsyncClient, url: str, mailbox: Mailbox, login: WebLogin, name: str
) -> None:
    """Sign up at ``/signup`` and verify the address with the link of the mail it sends."""
    fields = {"email": login.email, "password": login.password, "name": name}
    resp = await post_form(http, url, "/signup", fields)
    if resp.status_code >= 400:
        raise RuntimeError(f"the web app refused the sign-up ({resp.status_code}): {resp.text}")
    mail = await asyncio.to_thread(mailbox.wait_for, login.email)
    link = next((u for u in mail.links() if "/verify" in u), None)
    if link is None:
        raise RuntimeError(f"the verification mail ({mail.path}) holds no /verify link")
    verified = await http.get(link)
    if verified.status_code >= 400:
        raise RuntimeError(f"the verification link failed ({verified.status_code})")


def web_demo_path(cfg: StackConfig) -> Path:
    return cfg.data_dir / f"demo-web-{cfg.namespace}.json"


async def ensure_web_demo(cfg: StackConfig, mailbox: Mailbox) -> WebLogin:
    """Return a login that works on the running web app: the kept one, else a new sign-up."""
    path = web_demo_path(cfg)
    url = cfg.url("web")
    kept = read_private_json(path)
    async with httpx.AsyncClient(timeout=20) as http:
        if kept is not None:
            login = WebLogin(**kept)
            if await signed_in(http, url, login):
                return login
        # A new address each time: an old one may still be known to a kept database.
        email = f"demo-{secrets.token_hex(3)}@{DEMO_DOMAIN}"
        login = WebLogin(email=email, password=secrets.token_urlsafe(12))
        await sign_up(http, url, mailbox, login, DEMO_NAME)
    write_private_json(path, asdict(login))
    return login
