"""The pipeline bench's figures: what a phase's records add up to."""

from __future__ import annotations

import json
from collections import Counter

from benchmarks.pipeline.cpu import BENCH_BACKENDS, cpu_between
from benchmarks.pipeline.figures import PhaseFigures, cpu_per_alert
from benchmarks.pipeline.mix import HOT, HOT_SYMBOLS, Mix
from benchmarks.pipeline.outcomes import Sent, client_order_id
from benchmarks.pipeline.probes import Usage
from benchmarks.pipeline.summaries import sweep_row
from benchmarks.pipeline.verdicts import Kill, backlog_at, exactly_once, kill_to_next_order

T0 = 1_000_000.0  # ms epoch of the first alert


def alerts(count: int, tenants: int = 2, every_ms: float = 10.0) -> list[Sent]:
    return [Sent(T0 + i * every_ms, 202, 202, f"i{i}", 5.0, i % tenants) for i in range(count)]


def test_a_backend_that_starts_or_ends_during_a_phase_is_counted() -> None:
    start = {"postgres": {(10, 1.0): 5.0, (11, 1.0): 2.0}}
    # pid 11 ended at its last reading 2.5; pid 12 started during the phase and used 0.75.
    end = {"postgres": {(10, 1.0): 6.0, (11, 1.0): 2.5, (12, 9.0): 0.75}}
    assert cpu_between(start, end) == {"postgres": 2.25}


def test_a_reused_pid_is_another_process() -> None:
    start = {"postgres": {(10, 1.0): 5.0}}
    end = {"postgres": {(10, 1.0): 5.5, (10, 7.0): 0.25}}
    assert cpu_between(start, end) == {"postgres": 0.75}


def test_the_benchs_own_backends_are_left_out_of_postgres() -> None:
    start = {"postgres": {(10, 1.0): 5.0, (20, 1.0): 1.0}}
    end = {"postgres": {(10, 1.0): 6.0, (20, 1.0): 4.0}}
    assert cpu_between(start, end, left_out={20}) == {"postgres": 1.0, BENCH_BACKENDS: 3.0}


def test_the_total_per_alert_leaves_out_the_bench_and_subtracts_idle() -> None:
    usage = {
        "executor": Usage(2.0),
        "postgres": Usage(1.0),
        "bench": Usage(5.0),
        "load generator": Usage(5.0),
        BENCH_BACKENDS: Usage(5.0),
    }
    per = cpu_per_alert(usage, {"executor": 0.1}, wall_s=10.0, alerts=100)
    assert per["executor"] == 10.0  # (2.0 - 0.1 * 10) s over 100 alerts
    assert per["total"] == 20.0


def test_backlog_counts_accepted_alerts_not_at_the_exchange_by_then() -> None:
    figures = PhaseFigures("p", alerts(4))
    figures.exchange_at = {"i0": T0 + 100, "i1": T0 + 2000}  # i2 never, i3 refused
    figures.refused = {"i3": "nothing_to_do"}
    assert backlog_at(figures, T0 + 1000) == 2
    assert backlog_at(figures, T0 + 3000) == 1


def test_sweep_row_reads_the_backlog_one_second_after_the_last_due_alert() -> None:
    figures = PhaseFigures("p", alerts(3, every_ms=500))  # last due at T0 + 1000
    figures.exchange_at = {"i0": T0 + 50, "i1": T0 + 1900, "i2": T0 + 2100}
    assert sweep_row(100.0, figures).backlog == 1


def test_exactly_once_finds_missing_and_duplicated_orders() -> None:
    figures = PhaseFigures("p", alerts(4))
    figures.exchange_counts = {client_order_id("i0"): 1, client_order_id("i1"): 2}
    figures.ledger_counts = {"i0": 1, "i1": 1, "i2": 1}
    figures.refused = {"i3": "nothing_to_do"}
    verdict = exactly_once(figures)
    assert (verdict.expected, verdict.refused) == (3, Counter({"nothing_to_do": 1}))
    assert (verdict.exchange.once, verdict.exchange.more, verdict.exchange.none) == (1, 1, 1)
    assert (verdict.ledger.once, verdict.ledger.none) == (3, 0)
    assert not verdict.holds


def test_kill_to_next_order_is_per_tenant_whose_messages_the_process_held() -> None:
    figures = PhaseFigures("p", alerts(4))  # tenants 0, 1, 0, 1
    figures.orders_at = {"i0": T0 + 10, "i1": T0 + 20, "i2": T0 + 30, "i3": T0 + 5000}
    # i0 was through before the kill; i1 and i2 waited in the executor's input; i3 came later.
    figures.exchange_at = {"i0": T0 + 40, "i1": T0 + 9000, "i2": T0 + 4000, "i3": T0 + 9100}
    kill = Kill("executor", killed_ms=T0 + 100, restarted_ms=T0 + 200, ready_ms=T0 + 2000)
    held, count = kill_to_next_order(figures, kill)
    assert count == 2
    assert held == {0: 3800.0, 1: 8800.0}


def test_a_held_message_that_never_arrives_shows_as_never() -> None:
    figures = PhaseFigures("p", alerts(1))
    figures.orders_at = {"i0": T0 + 10}
    kill = Kill("executor", killed_ms=T0 + 100, restarted_ms=T0 + 200, ready_ms=T0 + 2000)
    assert kill_to_next_order(figures, kill) == ({0: None}, 1)


def test_the_router_held_only_what_it_had_not_yet_published() -> None:
    figures = PhaseFigures("p", alerts(2))  # answered 5 ms after due
    figures.orders_at = {"i0": T0 + 50, "i1": T0 + 3000}
    figures.exchange_at = {"i0": T0 + 6000, "i1": T0 + 7000}
    kill = Kill("router", killed_ms=T0 + 100, restarted_ms=T0 + 100, ready_ms=T0 + 1000)
    assert kill_to_next_order(figures, kill) == ({1: 6900.0}, 1)


def test_the_plain_mix_is_round_robin_with_buys_and_sells_alternating() -> None:
    mix = Mix(3)
    sent = [mix.alert(i, "r") for i in range(6)]
    assert [tenant for tenant, _ in sent] == [0, 1, 2, 0, 1, 2]
    actions = [json.loads(body)["action"] for _, body in sent]
    assert actions == ["buy"] * 3 + ["sell"] * 3


def test_the_hot_tenant_sends_its_share_over_every_symbol_and_closes_after_two_buys() -> None:
    mix = Mix(11, hot_share=0.3, closes=True)
    sent = [mix.alert(i, "r") for i in range(1000)]
    hot = [json.loads(body) for tenant, body in sent if tenant == HOT]
    assert len(hot) == 300
    assert {a["ticker"] for a in hot} == {f"BINANCE:{s}" for s in HOT_SYMBOLS}
    btc = [a["action"] for a in hot if a["ticker"] == "BINANCE:BTCUSDT"]
    assert btc[:6] == ["buy", "buy", "close", "buy", "buy", "close"]
    assert all("qty" not in a for a in hot if a["action"] == "close")
    others = Counter(tenant for tenant, _ in sent if tenant != HOT)
    assert set(others) == set(range(1, 11))
    assert max(others.values()) - min(others.values()) <= 1
