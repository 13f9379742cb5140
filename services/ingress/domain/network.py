"""Where an alert came from, and whether its webhook accepts alerts from there.

The client address is the TCP peer unless the operator declares ``trusted_proxy_hops``
proxies in front of ingress: then it is the address that many entries from the right of
``X-Forwarded-For``, the part of the header our own proxies wrote. Entries further left are
whatever the client claimed, so they are never used.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

TRADINGVIEW = "tradingview"
TRADINGVIEW_ADDRESSES = ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7")
"""The addresses TradingView sends webhooks from (its published list)."""


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted_proxy_hops: int
) -> str | None:
    """Return the caller's IP address as text, or None when it cannot be known.

    ``forwarded_for`` holds every ``X-Forwarded-For`` header line of the request, in order.
    """
    if trusted_proxy_hops == 0:
        return _valid(peer)
    entries = [entry.strip() for line in forwarded_for for entry in line.split(",")]
    if len(entries) < trusted_proxy_hops:
        return None  # the request did not come through all our proxies
    return _valid(entries[-trusted_proxy_hops])


def _valid(text: str | None) -> str | None:
    if not text or len(text) > 45:
        return None
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    # A dual-stack socket shows an IPv4 client as ::ffff:a.b.c.d; allowlists name it as IPv4.
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return str(mapped or ip)


def address_allowed(address: str | None, allowed: tuple[str, ...]) -> bool:
    """Tell whether ``address`` is in the webhook's allowlist (an empty list allows any)."""
    if not allowed:
        return True
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in allowlist(allowed))


@lru_cache(maxsize=4096)
def allowlist(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Return the networks of an allowlist; ``tradingview`` stands for TradingView's addresses.

    An entry that is not a network is left out, never read as "allow all".
    """
    networks: list[IPNetwork] = []
    for entry in entries:
        texts = TRADINGVIEW_ADDRESSES if entry.strip().lower() == TRADINGVIEW else (entry,)
        for text in texts:
            try:
                networks.append(ipaddress.ip_network(text.strip(), strict=False))
            except ValueError:
                continue
    return tuple(networks)
