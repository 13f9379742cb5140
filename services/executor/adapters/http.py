"""One HTTP connection pool and one TLS context for every ccxt client of the process.

ccxt gives each client its own aiohttp session and builds a TLS context for it on first use
(about 20 ms of CPU reading the CA bundle, on the event loop): with a client per tenant
account that is a stall per new tenant and a socket pool per tenant. Requests are signed per
client, so sharing the connections shares nothing secret.

A shared session would also share its cookie jar: a cookie an exchange sets on one tenant's
request would ride along with every other tenant's. So the session keeps no cookies at all
(`aiohttp.DummyCookieJar`): every venue's REST API that Sparky uses authenticates each
request by its signed headers or query, never by a cookie, so dropping them loses nothing,
and no venue's state can cross accounts. A venue that ever needs cookies should get a jar of
its own per client (ccxt passes none per request), not a shared one.
"""

from __future__ import annotations

import ssl

import aiohttp
import ccxt.async_support as ccxt
import certifi


class SharedHttp:
    """Lazily built, process-wide HTTP plumbing for ccxt clients: one pool, no cookies."""

    def __init__(self, *, connection_limit: int = 256) -> None:
        self._limit = connection_limit
        self._ssl: ssl.SSLContext | None = None
        self._session: aiohttp.ClientSession | None = None

    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=certifi.where())
        return self._ssl

    def session(self) -> aiohttp.ClientSession:
        """Return the shared session (created in the running event loop on first use)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                ssl=self.ssl_context(), limit=self._limit, enable_cleanup_closed=True
            )
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    def attach(self, client: ccxt.Exchange) -> None:
        """Make ``client`` use the shared session; its ``close`` then leaves the session open."""
        client.session = self.session()
        client.own_session = False
        client.ssl_context = self.ssl_context()
        client.timeout_on_exit = 0  # REST only: nothing to wait for on close

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
