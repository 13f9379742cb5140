"""The lines and tables printed across phases: the sweep's cost curve, a burst's verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.pipeline.figures import NOT_PIPELINE, PhaseFigures, cpu_per_alert, quantile
from benchmarks.pipeline.verdicts import backlog_at

BACKLOG_AFTER_MS = 1000.0  # the backlog is read this long after a phase's last alert was due
# The sweep table's columns, in the pipeline's order; other groups seen are added after them.
COLUMNS = (
    "ingress",
    "router",
    "executor",
    "paper",
    "ledger",
    "billing",
    "nats-server",
    "postgres",
    "redis",
    "openbao",
)


@dataclass(frozen=True, slots=True)
class SweepRow:
    """One sustained rate of a sweep: its CPU per alert per group and its latencies."""

    rate: float
    cpu: dict[str, float]  # ms per accepted alert above idle, and "total"
    exchange_ms: tuple[float, float]  # p50, p99
    ledger_ms: tuple[float, float]
    backlog: int  # accepted, not at the exchange BACKLOG_AFTER_MS after the last due time


def sweep_row(rate: float, figures: PhaseFigures) -> SweepRow:
    """Sum up one sweep phase."""
    accepted = len(figures.accepted)
    cpu = cpu_per_alert(figures.usage, figures.idle, figures.wall_s, accepted)
    end_ms = max((s.due_ms for s in figures.sent), default=0.0) + BACKLOG_AFTER_MS
    ex, led = figures.to_exchange_ms, figures.to_ledger_ms
    return SweepRow(
        rate,
        cpu,
        (quantile(ex, 0.5), quantile(ex, 0.99)),
        (quantile(led, 0.5), quantile(led, 0.99)),
        backlog_at(figures, end_ms),
    )


def print_sweep(rows: Sequence[SweepRow]) -> None:
    """Print the cost curve: a row per rate, ms of CPU per alert per process, the total."""
    seen = {name for row in rows for name in row.cpu} - NOT_PIPELINE - {"total"}
    names = [n for n in COLUMNS if n in seen] + sorted(seen - set(COLUMNS))
    head = "".join(f"{n[:9]:>10}" for n in names)
    print("sweep: ms of CPU per alert above idle; webhook -> exchange / ledger p50 and p99 in ms;")
    print("backlog: accepted, not at the exchange 1 s after the phase's last alert was due")
    print(f"  {'rate/s':>7}{head}{'total':>8}{'ex p50':>9}{'ex p99':>9}", end="")
    print(f"{'led p50':>9}{'led p99':>9}{'backlog':>8}")
    for row in rows:
        cells = "".join(f"{row.cpu.get(n, 0.0):10.2f}" for n in names)
        print(f"  {row.rate:7g}{cells}{row.cpu['total']:8.2f}", end="")
        print(f"{row.exchange_ms[0]:9.0f}{row.exchange_ms[1]:9.0f}", end="")
        print(f"{row.ledger_ms[0]:9.0f}{row.ledger_ms[1]:9.0f}{row.backlog:8d}")


def burst_verdict(figures: PhaseFigures) -> str:
    """The burst goal's figures in one line (exactly-once is printed for every phase):
    accepted, 5xx, last at the exchange, webhook answer p50, CPU per alert.
    """
    sent, accepted = figures.sent, figures.accepted
    first_due = min((s.due_ms for s in sent), default=0.0)
    first_5xx = sum(1 for s in sent if s.first_status >= 500)
    final_5xx = sum(1 for s in sent if s.final_status >= 500)
    answers = [s.answer_ms for s in sent if s.answer_ms is not None]
    last = figures.last_exchange_ms
    cpu = cpu_per_alert(figures.usage, figures.idle, figures.wall_s, len(accepted))["total"]
    return (
        f"  verdict: accepted {len(accepted)} of {len(sent)}; 5xx {first_5xx} first, "
        f"{final_5xx} after resends; last at the exchange "
        f"{(last - first_due) / 1e3 if last else float('nan'):.2f} s; webhook answer p50 "
        f"{quantile(answers, 0.5):.0f} ms; CPU {cpu:.2f} ms per alert"
    )
