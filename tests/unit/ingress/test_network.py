"""The caller's address behind trusted proxies, and IP allowlists."""

from __future__ import annotations

import pytest

from services.ingress.domain.network import (
    TRADINGVIEW_ADDRESSES,
    address_allowed,
    allowlist,
    client_address,
)


def test_without_trusted_proxies_the_peer_is_the_client_and_the_header_is_ignored() -> None:
    assert client_address("203.0.113.9", ["52.89.214.238"], 0) == "203.0.113.9"


def test_behind_one_proxy_the_rightmost_forwarded_address_is_the_client() -> None:
    claimed_then_real = ["52.89.214.238, 203.0.113.9"]

    assert client_address("10.0.0.2", claimed_then_real, 1) == "203.0.113.9"


def test_behind_two_proxies_the_address_two_hops_from_the_right_is_the_client() -> None:
    lines = ["198.51.100.1, 203.0.113.9", "10.0.0.7"]  # split over two header lines

    assert client_address("10.0.0.2", lines, 2) == "203.0.113.9"


def test_a_request_that_skipped_the_proxies_has_no_known_address() -> None:
    assert client_address("10.0.0.2", [], 1) is None
    assert client_address("10.0.0.2", ["203.0.113.9"], 2) is None


@pytest.mark.parametrize("entry", ["not-an-ip", "203.0.113.9:443", "", "x" * 100])
def test_a_forwarded_entry_that_is_not_an_address_gives_none(entry: str) -> None:
    assert client_address("10.0.0.2", [entry], 1) is None


def test_an_ipv4_client_seen_through_a_dual_stack_socket_is_shown_as_ipv4() -> None:
    assert client_address("::ffff:52.89.214.238", [], 0) == "52.89.214.238"


def test_an_empty_allowlist_allows_anyone_even_an_unknown_address() -> None:
    assert address_allowed(None, ())
    assert address_allowed("203.0.113.9", ())


def test_the_tradingview_preset_allows_exactly_its_four_addresses() -> None:
    assert all(address_allowed(ip, ("tradingview",)) for ip in TRADINGVIEW_ADDRESSES)
    assert not address_allowed("52.89.214.239", ("TradingView",))


def test_cidr_entries_and_ipv6_are_understood() -> None:
    entries = ("203.0.113.0/24", "2001:db8::/32")

    assert address_allowed("203.0.113.200", entries)
    assert address_allowed("2001:db8::1", entries)
    assert not address_allowed("198.51.100.1", entries)


def test_an_unknown_address_is_refused_when_there_is_an_allowlist() -> None:
    assert not address_allowed(None, ("tradingview",))


def test_a_broken_entry_is_skipped_and_never_opens_the_door() -> None:
    assert allowlist(("bogus", "300.1.1.1/8")) == ()
    assert not address_allowed("203.0.113.9", ("bogus",))
