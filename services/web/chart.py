"""The cumulative PnL chart, drawn on the server as SVG: no JavaScript, readable by a screen
reader (a title and a description saying the last value), sized by its viewBox for phones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html import escape

WIDTH, HEIGHT = 640, 240
PAD_LEFT, PAD_RIGHT, PAD_Y = 72, 16, 24


@dataclass(frozen=True)
class Point:
    day: date
    value: Decimal


def _number(value: Decimal) -> str:
    return f"{value:,.2f}"


def _scale(points: Sequence[Point]) -> tuple[Decimal, Decimal]:
    values = [p.value for p in points]
    low, high = min([*values, Decimal(0)]), max([*values, Decimal(0)])
    if low == high:
        high = low + 1
    return low, high


def _coordinates(points: Sequence[Point]) -> list[tuple[float, float]]:
    low, high = _scale(points)
    span_x = WIDTH - PAD_LEFT - PAD_RIGHT
    span_y = HEIGHT - 2 * PAD_Y
    step = span_x / max(len(points) - 1, 1)
    return [
        (
            round(PAD_LEFT + i * step, 1),
            round(PAD_Y + float((high - p.value) / (high - low)) * span_y, 1),
        )
        for i, p in enumerate(points)
    ]


def _zero_y(points: Sequence[Point]) -> float:
    low, high = _scale(points)
    return round(PAD_Y + float(high / (high - low)) * (HEIGHT - 2 * PAD_Y), 1)


def _open(description: str) -> list[str]:
    return [
        f'<svg id="pnl-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}"'
        ' role="img" aria-labelledby="pnl-chart-title pnl-chart-desc" class="chart">',
        '<title id="pnl-chart-title">Cumulative realized PnL</title>',
        f'<desc id="pnl-chart-desc">{escape(description)}</desc>',
    ]


def pnl_chart(points: Sequence[Point], currency: str = "") -> str:
    """Return the SVG of cumulative PnL over ``points`` (oldest first)."""
    unit = f" {currency}" if currency else ""
    if not points:
        parts = _open("No realized PnL yet.")
        parts.append(
            f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle">No realized PnL yet'
            "</text></svg>"
        )
        return "".join(parts)
    last = points[-1]
    description = (
        f"From {points[0].day.isoformat()} to {last.day.isoformat()}: "
        f"{_number(last.value)}{unit} on {last.day.isoformat()}."
    )
    low, high = _scale(points)
    coords = _coordinates(points)
    line = " ".join(f"{x},{y}" for x, y in coords)
    zero = _zero_y(points)
    colour = "gain" if last.value >= 0 else "loss"
    parts = _open(description)
    parts += [
        f'<line class="axis" x1="{PAD_LEFT}" y1="{zero}" x2="{WIDTH - PAD_RIGHT}" y2="{zero}"/>',
        f'<text class="label" x="{PAD_LEFT - 6}" y="{PAD_Y + 4}" text-anchor="end">'
        f"{escape(_number(high))}</text>",
        f'<text class="label" x="{PAD_LEFT - 6}" y="{HEIGHT - PAD_Y + 4}" text-anchor="end">'
        f"{escape(_number(low))}</text>",
        f'<text class="label" x="{PAD_LEFT}" y="{HEIGHT - 4}">{points[0].day.isoformat()}</text>',
        f'<text class="label" x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 4}" text-anchor="end">'
        f"{last.day.isoformat()}</text>",
        f'<polyline class="line {colour}" fill="none" points="{line}"/>',
    ]
    parts += [f'<circle class="dot {colour}" cx="{x}" cy="{y}" r="3"/>' for x, y in coords]
    parts.append("</svg>")
    return "".join(parts)


def cumulative(days: Sequence[tuple[date, Decimal]]) -> list[Point]:
    """Running totals of daily realized PnL, oldest day first (the input in any order)."""
    total = Decimal(0)
    points: list[Point] = []
    for day, pnl in sorted(days):
        total += pnl
        points.append(Point(day, total))
    return points
