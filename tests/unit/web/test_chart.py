"""The cumulative PnL chart: an SVG a browser shows without JavaScript."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

from services.web.chart import HEIGHT, Point, cumulative, pnl_chart

SVG = "{http://www.w3.org/2000/svg}"


def _polyline(svg: str) -> list[tuple[float, float]]:
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    line = root.find(f"{SVG}polyline")
    assert line is not None
    return [(float(x), float(y)) for x, y in (p.split(",") for p in line.get("points", "").split())]


def test_cumulative_adds_up_days_in_date_order() -> None:
    days = [(date(2026, 3, 2), Decimal("-5")), (date(2026, 3, 1), Decimal("10"))]
    assert cumulative(days) == [
        Point(date(2026, 3, 1), Decimal("10")),
        Point(date(2026, 3, 2), Decimal("5")),
    ]


def test_chart_is_valid_svg_with_the_id_and_the_last_value_in_words() -> None:
    svg = pnl_chart(
        cumulative([(date(2026, 3, 1), Decimal("10")), (date(2026, 3, 2), Decimal("-4"))]), "USDT"
    )
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    assert root.get("id") == "pnl-chart"
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert "6.00 USDT on 2026-03-02" in (desc.text or "")


def test_a_higher_value_is_drawn_higher() -> None:
    points = [Point(date(2026, 3, d), Decimal(v)) for d, v in ((1, "1"), (2, "50"), (3, "-20"))]
    (_, y1), (_, y2), (_, y3) = _polyline(pnl_chart(points))
    assert y2 < y1 < y3
    assert all(0 <= y <= HEIGHT for y in (y1, y2, y3))


def test_one_day_and_a_flat_line_still_draw() -> None:
    assert len(_polyline(pnl_chart([Point(date(2026, 3, 1), Decimal("0"))]))) == 1
    flat = [Point(date(2026, 3, d), Decimal("3")) for d in (1, 2)]
    (_, a), (_, b) = _polyline(pnl_chart(flat))
    assert a == b


def test_no_days_says_so() -> None:
    svg = pnl_chart([])
    assert 'id="pnl-chart"' in svg
    assert "No realized PnL yet" in svg


def test_text_is_escaped() -> None:
    svg = pnl_chart([Point(date(2026, 3, 1), Decimal("1"))], currency="<b>")
    assert "<b>" not in svg
    assert re.search(r"&lt;b&gt;", svg)
