"""Exchange accounts as onboarding and the account hub change them: open a paper account, add
API keys (validated against the exchange), validate again, remove. Keys go straight to the
accounts API and are never kept or shown here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from services.web.errors import ApiError
from services.web.session import SignedIn
from services.web.tenant_api import TenantApi

ACCOUNTS = "/api/v1/exchange-accounts"
# The ccxt venues the accounts API trades (services/executor/adapters/venues.py).
VENUES: tuple[tuple[str, str], ...] = (("binance", "Binance"), ("okx", "OKX"))
PASSPHRASE_VENUES = frozenset({"okx"})
MODES = ("live", "testnet")
MARKETS = ("spot", "futures")
_LABEL = re.compile(r"^[^/\x00-\x1f\x7f-\x9f]{1,64}$")
DEFAULT_PAPER_BALANCES = {"USDT": "10000"}


class RefusedHere(ValueError):  # noqa: N818 - read as "refused here", next to ApiError
    """The form cannot be sent as it is; the message says why."""


@dataclass(frozen=True)
class Outcome:
    """What adding an account came to: the account as the API shows it, in words."""

    account: dict[str, Any]

    @property
    def sentence(self) -> str:
        label, status = self.account["label"], self.account["status"]
        if status == "valid":
            return f"Account {label} is connected: its keys work."
        reason = self.account.get("status_message") or "the exchange did not accept the keys"
        return f"Account {label} was saved, but its keys do not work yet: {reason}"


def check_label(label: str) -> str:
    if not _LABEL.fullmatch(label):
        raise RefusedHere("The label is 1 to 64 characters, without '/'.")
    return label


async def open_paper(api: TenantApi, label: str) -> Outcome:
    """Open a paper account (self-service, the free plan allows it)."""
    body = {"label": check_label(label or "paper"), "balances": DEFAULT_PAPER_BALANCES}
    return Outcome(await api.post("accounts", f"{ACCOUNTS}/paper", json=body))


def keys_body(form: dict[str, str], me: SignedIn) -> dict[str, Any]:
    """The accounts API's body for the posted keys; live keys need two-factor sign-in."""
    venue, mode = form.get("venue", ""), form.get("mode", "live")
    market = form.get("market_type", "spot")
    if venue not in dict(VENUES):
        raise RefusedHere("Choose one of the exchanges listed.")
    if mode not in MODES or market not in MARKETS:
        raise RefusedHere("Choose live or testnet, and spot or futures.")
    if mode == "live" and not me.totp_enabled:
        raise RefusedHere(
            "Live exchange keys need two-factor sign-in: turn it on in Security first."
        )
    body: dict[str, Any] = {
        "label": check_label(form.get("label", "")),
        "exchange_id": venue,
        "mode": mode,
        "market_type": market,
        "api_key": form.get("api_key", ""),
        "secret": form.get("secret", ""),
        "validate": True,
    }
    if form.get("passphrase"):
        body["passphrase"] = form["passphrase"]
    return body


async def add_keys(api: TenantApi, form: dict[str, str], me: SignedIn) -> Outcome:
    """Add an account with the posted keys; the answer says whether they work."""
    return Outcome(await api.post("accounts", ACCOUNTS, json=keys_body(form, me)))


async def validate(api: TenantApi, label: str) -> Outcome:
    path = f"{ACCOUNTS}/{quote(check_label(label), safe='')}/validate"
    return Outcome(await api.post("accounts", path))


async def remove(api: TenantApi, label: str) -> None:
    await api.delete("accounts", f"{ACCOUNTS}/{quote(check_label(label), safe='')}")


async def accounts_of(api: TenantApi) -> list[dict[str, Any]]:
    found = await api.get("accounts", ACCOUNTS)
    accounts: list[dict[str, Any]] = found["accounts"]
    return accounts


def refusal(exc: ApiError | RefusedHere) -> str:
    """The sentence to show next to the form."""
    if isinstance(exc, ApiError):
        fields = "; ".join(f"{e.field}: {e.message}" for e in exc.errors if e.field)
        return exc.message if not fields or fields in exc.message else f"{exc.message} ({fields})"
    return str(exc)
