"""Notices in each channel's markup, escaped piece by piece; several folded into one message."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from services.notifier.domain.kinds import Markup
from services.notifier.domain.notices import Notice

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~|>#\[\]()<:@-])")


def escape(text: str, markup: Markup) -> str:
    """Return ``text`` shown literally in ``markup``."""
    if markup is Markup.HTML:
        return html.escape(text, quote=False)
    if markup is Markup.MARKDOWN:
        # Mentions (@everyone) and links must not fire: break them with a zero-width space.
        text = text.replace("@", "@\u200b").replace("://", ":\u200b//")
        return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return text


def _bold(text: str, markup: Markup) -> str:
    if markup is Markup.HTML:
        return f"<b>{escape(text, markup)}</b>"
    if markup is Markup.MARKDOWN:
        return f"**{escape(text, markup)}**"
    return text


def _one(notice: Notice, markup: Markup) -> list[str]:
    lines = [f"{_bold(notice.title, markup)}: {escape(notice.summary, markup)}"]
    lines += [f"{escape(label, markup)}: {escape(value, markup)}" for label, value in notice.facts]
    return lines


def _folded(group: Sequence[Notice], markup: Markup, shown: int) -> str:
    title = group[0].title.lower()
    count = f"{len(group)} x {title}" if group[0].kind != "order.filled" else None
    head = count or f"{len(group)} orders filled"
    items = [n.short for n in group[:shown]]
    more = f", … and {len(group) - shown} more" if len(group) > shown else ""
    return f"{_bold(head, markup)} ({escape(', '.join(items) + more, markup)})"


def render(notices: Sequence[Notice], markup: Markup, *, max_chars: int = 4000) -> str:
    """Return the text of one message saying ``notices`` in ``markup``: each in full when
    alone, folded by kind when several ("12 orders filled (BTCUSDT +0.1, …)")."""
    if len(notices) == 1:
        return _cut("\n".join(_one(notices[0], markup)), max_chars)
    groups: dict[str, list[Notice]] = {}
    for notice in notices:
        groups.setdefault(notice.kind, []).append(notice)
    shown = 10
    while True:
        text = "\n".join(
            _folded(g, markup, shown) if len(g) > 1 else "\n".join(_one(g[0], markup))
            for g in groups.values()
        )
        if len(text) <= max_chars or shown == 1:
            return _cut(text, max_chars)
        shown = max(1, shown // 2)


def _cut(text: str, max_chars: int) -> str:
    # Cut at a line break so no escape or tag is split.
    if len(text) <= max_chars:
        return text
    return text[: text.rfind("\n", 0, max_chars - 2)] + "\n…"


def subject(notices: Sequence[Notice]) -> str:
    """Return an email subject for ``notices``."""
    if len(notices) == 1:
        return f"Sparky: {notices[0].title} - {notices[0].summary}"[:150]
    return f"Sparky: {len(notices)} notifications"
