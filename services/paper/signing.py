"""Binance's request signing: HMAC-SHA256 over the parameters, and the recvWindow rule.

Binance signs ``totalParams``, "the query string concatenated with the request body", as they
were sent (still URL-encoded), without the ``signature`` parameter itself. ccxt puts every
parameter of a GET or DELETE in the query string and of a POST in the form body, each time
with ``timestamp`` and ``recvWindow``, and ``signature`` last.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import parse_qsl, unquote

from services.paper import errors
from services.paper.wire import Params, int_param

DEFAULT_RECV_WINDOW_MS = 5000
FUTURE_TOLERANCE_MS = 1000
# What `sign` produces: 64 hex digits (either case, as Binance accepts).
_SIGNATURE_FORMAT = re.compile(r"[0-9A-Fa-f]{64}")


def split_signature(query: str, body: str) -> tuple[str, str | None]:
    """Return the signed payload (query then body, signature removed) and the signature."""
    signature = None
    kept: list[str] = []
    for part in (query, body):
        pairs = []
        for pair in part.split("&") if part else ():
            if pair.startswith("signature="):
                signature = unquote(pair.removeprefix("signature="))
            else:
                pairs.append(pair)
        kept.append("&".join(pairs))
    return "".join(kept), signature


def sign(payload: str, secret: str) -> str:
    """Return the hex HMAC-SHA256 of ``payload`` with ``secret`` (what a client sends)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def well_formed(signature: str) -> bool:
    """Tell whether ``signature`` could be a signature at all: 64 hex digits, nothing else."""
    return _SIGNATURE_FORMAT.fullmatch(signature) is not None


def verify(payload: str, signature: str, secret: str) -> bool:
    """Tell, in constant time, whether ``signature`` signs ``payload`` with ``secret``.

    Any string may come in (a non-ASCII one would make ``compare_digest`` raise); one that is
    not 64 hex digits is simply not valid.
    """
    if not well_formed(signature):
        return False
    return hmac.compare_digest(sign(payload, secret), signature.lower())


def parameters(query: str, body: str) -> dict[str, str]:
    """Decode the parameters; one sent in both places is taken from the query, like Binance."""
    params = dict(parse_qsl(body, keep_blank_values=True))
    params.update(parse_qsl(query, keep_blank_values=True))
    params.pop("signature", None)
    return params


def check_timestamp(params: Params, now_ms: int, max_window_ms: int) -> None:
    """Refuse a request outside its recvWindow, as Binance does (-1021, -1131)."""
    timestamp = int_param(params, "timestamp")
    if timestamp is None:
        raise errors.mandatory("timestamp")
    window = int_param(params, "recvWindow") or DEFAULT_RECV_WINDOW_MS
    if window > max_window_ms:
        raise errors.recv_window_too_large(max_window_ms)
    if timestamp >= now_ms + FUTURE_TOLERANCE_MS or now_ms - timestamp > window:
        raise errors.outside_recv_window()
