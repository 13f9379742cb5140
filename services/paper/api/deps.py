"""Request plumbing of the Binance routes: the injected-fault gate and signed-request checks."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.paper import errors, signing
from services.paper.accounts import KeyRing
from services.paper.exchange import PaperExchange
from services.paper.faults import BEFORE_HANDLING, FaultKind, Faults, RequestScope
from services.paper.runtime import runtime_of
from services.paper.store.database import Credentials

API_KEY_HEADER = "X-MBX-APIKEY"
_KEY_FORMAT = re.compile(r"[A-Za-z0-9]{1,128}")  # fullmatch: no "\n" slips past a "$"


class InjectedServerError(Exception):
    """An injected 5xx: answered as plain text, as a failing gateway would."""

    def __init__(self, status: int) -> None:
        super().__init__(f"injected HTTP {status}")
        self.status = status


@dataclass(frozen=True, slots=True)
class Caller:
    """A signed request that passed every check: whose it is and what it asks."""

    account_id: int
    params: dict[str, str]


def exchange_of(request: Request) -> PaperExchange:
    """Return the exchange the app's lifespan built."""
    return runtime_of(request).exchange


def keys_of(request: Request) -> KeyRing:
    """Return the app's API-key cache."""
    return runtime_of(request).keys


def faults_of(request: Request) -> Faults:
    """Return the app's fault registry."""
    return runtime_of(request).faults


async def account_hint(request: Request) -> int | None:
    """Return the account of the request's API key, if any (to match scoped faults)."""
    api_key = request.headers.get(API_KEY_HEADER)
    if not api_key or not _KEY_FORMAT.fullmatch(api_key):
        return None
    found = await keys_of(request).lookup(api_key)
    return found.account_id if found else None


async def scope_of(request: Request) -> RequestScope:
    """Describe the request for fault matching."""
    faults = faults_of(request)
    account = await account_hint(request) if faults.any_account_scoped() else None
    return RequestScope(request.method, request.url.path, account)


async def fault_gate(request: Request) -> None:
    """Apply the faults that strike before a request is handled."""
    faults = faults_of(request)
    if not faults.active():
        return
    fault = faults.take(BEFORE_HANDLING, await scope_of(request))
    if fault is None:
        return
    if fault.kind is FaultKind.LATENCY:
        await asyncio.sleep(fault.latency_ms / 1000)
    elif fault.kind is FaultKind.RATE_LIMIT:
        raise errors.rate_limited()
    else:
        raise InjectedServerError(fault.status)


async def _credentials(request: Request) -> Credentials:
    api_key = request.headers.get(API_KEY_HEADER, "")
    if not _KEY_FORMAT.fullmatch(api_key):
        raise errors.api_key_format_invalid()
    credentials = await keys_of(request).lookup(api_key)
    if credentials is None or credentials.disabled:
        raise errors.invalid_api_key()
    return credentials


async def signed(request: Request) -> Caller:
    """Check the API key, the HMAC signature and the timestamp of a signed request."""
    credentials = await _credentials(request)
    # Signatures cover the bytes as sent; latin-1 maps each byte to one character.
    query = request.scope["query_string"].decode("latin-1")
    body = (await request.body()).decode("latin-1")
    payload, signature = signing.split_signature(query, body)
    if not signature:
        raise errors.mandatory("signature")
    if not signing.verify(payload, signature, credentials.secret):
        raise errors.bad_signature()
    params = signing.parameters(query, body)
    max_window = runtime_of(request).settings.max_recv_window_ms
    signing.check_timestamp(params, exchange_of(request).clock(), max_window)
    return Caller(credentials.account_id, params)


async def current_exchange(request: Request) -> PaperExchange:
    """Depend on the exchange (async: a sync dependency would cost a thread hop per request)."""
    return exchange_of(request)


Exchange = Annotated[PaperExchange, Depends(current_exchange)]
Signed = Annotated[Caller, Depends(signed)]
