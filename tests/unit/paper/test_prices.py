"""Prices: the same walk in every process, kept near the reference; pins win over the feed."""

from __future__ import annotations

from decimal import Decimal

from services.paper.markets import CATALOGUE, index
from services.paper.prices import PriceBoard, RandomWalkFeed, ReferenceFeed

MARKETS = index(CATALOGUE)
BTC = MARKETS["BTCUSDT"]
HOUR_MS = 3_600_000


def _walk(seed: str = "s") -> RandomWalkFeed:
    return RandomWalkFeed(seed, 1000, Decimal("0.0005"))


def test_every_process_sees_the_same_price_at_the_same_moment() -> None:
    times = [1_700_000_000_000 + i * 997 for i in range(50)]
    assert [_walk().price(BTC, t) for t in times] == [_walk().price(BTC, t) for t in times]


def test_the_seed_and_the_symbol_change_the_path() -> None:
    t = 1_700_000_000_000
    assert _walk("a").offset("BTCUSDT", t // 1000) != _walk("b").offset("BTCUSDT", t // 1000)
    assert _walk().offset("BTCUSDT", t // 1000) != _walk().offset("ETHUSDT", t // 1000)


def test_the_price_holds_within_a_bucket_and_moves_a_little_between_buckets() -> None:
    walk, t = _walk(), 1_700_000_000_000
    assert walk.price(BTC, t) == walk.price(BTC, t + 999)
    steps = [
        abs(walk.price(BTC, t + i * 1000) / walk.price(BTC, t + (i + 1) * 1000) - 1)
        for i in range(200)
    ]
    assert any(step > 0 for step in steps)
    assert max(steps) < Decimal("0.01")


def test_the_walk_stays_on_the_tick_and_near_the_reference_for_days() -> None:
    walk = _walk()
    for market in MARKETS.values():
        for hour in range(24 * 14):
            price = walk.price(market, 1_700_000_000_000 + hour * HOUR_MS)
            assert price % market.tick_size == 0
            assert market.reference_price / 2 <= price <= market.reference_price * 2


def test_pinned_prices_win_over_configured_ones_which_win_over_the_feed() -> None:
    board = PriceBoard(MARKETS, ReferenceFeed(), {"ETHUSDT": Decimal(2500)})
    assert board.price("BTCUSDT", 0) == Decimal(60000)
    assert board.price("ETHUSDT", 0) == Decimal(2500)
    board.pin({"ETHUSDT": Decimal(2600), "BTCUSDT": Decimal(1)})
    assert board.snapshot(0)["ETHUSDT"] == Decimal(2600)
    assert board.price("BTCUSDT", 0) == Decimal(1)
    board.unpin_all()
    assert (board.price("BTCUSDT", 0), board.price("ETHUSDT", 0)) == (Decimal(60000), Decimal(2500))
