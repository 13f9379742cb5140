"""The paper exchange's HTTP protocol: a request the parser cannot read, answered like Binance.

The HTTP parser refuses a request before any route sees it when a header holds a control
character (an ``X-MBX-APIKEY`` with a ``\\x01``) or the URL a raw non-ASCII byte (a signature
pasted unencoded). uvicorn answers those with a plain-text 400 that ccxt cannot read; here they
get Binance's error body, so a client learns what it got wrong:

- a header (the only one Binance reads is the API key): 401, -2014 ``API-key format invalid.``;
- the request line or the body's framing (nothing can be verified): 400, -1022
  ``Signature for this request is not valid.``
"""

from __future__ import annotations

import json

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE

from libs.common.http_limits import GuardedHttpToolsProtocol
from services.paper import errors


def unreadable_answer(exc: httptools.HttpParserError) -> errors.BinanceError:
    """Return the Binance error for a request the parser refused with ``exc``."""
    if "header" in str(exc).lower():
        return errors.api_key_format_invalid()
    return errors.bad_signature()


def answer_bytes(error: errors.BinanceError) -> bytes:
    """Return a whole HTTP/1.1 answer carrying ``error`` that closes the connection."""
    body = json.dumps(error.body(), separators=(",", ":")).encode()
    return b"".join(
        (
            STATUS_LINE[error.status],
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        )
    )


class BinanceHttpProtocol(GuardedHttpToolsProtocol):
    """The common guarded protocol, answering unreadable requests in Binance's shape."""

    def refuse_unreadable(self, exc: httptools.HttpParserError) -> None:
        """Answer in Binance's shape (the reason is logged, never the bytes sent)."""
        self.logger.warning("Invalid HTTP request received: %s", exc)
        self.transport.write(answer_bytes(unreadable_answer(exc)))
        self.transport.close()
