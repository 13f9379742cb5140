"""What the bot says, in Telegram's HTML parse mode: pure, every outside value escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape as _html_escape
from typing import Any

Json = dict[str, Any]


def escape(text: str) -> str:
    """Show ``text`` literally in Telegram's HTML (quotes need no escaping there)."""
    return _html_escape(text, quote=False)


HOW_TO_LINK = (
    "This chat is not linked to a Sparky account yet.\n"
    "In Sparky open <b>Account → Notifications</b> and press <b>Link Telegram</b> "
    "(or call <code>POST /api/v1/notifications/channels/telegram</code>), then open the link "
    "it gives you: it brings you back here, linked."
)
LINK_REFUSED = (
    "That link is not valid any more: each link works once, for 15 minutes. "
    "Ask Sparky for a new one."
)
HELP = (
    "<b>Sparky</b>\n"
    "/status: accounts, kill switch, plan\n"
    "/positions: open positions\n"
    "/pnl: realized and unrealized PnL\n"
    "/alerts: the last 10 alerts and what became of them\n"
    "/pause: stop all trading (kill switch)\n"
    "/resume: trade again\n"
    "/help: this list\n\n"
    "<b>Signal channels</b>: add this bot to a channel or group, create a signal source in "
    "Sparky (<code>POST /api/v1/notifications/signal-sources</code>) and post the "
    "<code>/signals &lt;code&gt;</code> it gives you there. New posts are then sent to your "
    "webhook like TradingView alerts; edited posts never are."
)
CONFIRM_PAUSE = "Stop all trading on every account? Alerts will be refused until you /resume."
CONFIRM_RESUME = "Let alerts trade again?"
PAUSED = (
    "Trading is <b>paused</b>: alerts are refused with the kill-switch reason. /resume undoes it."
)
RESUMED = "Trading is <b>on</b> again."
CANCELLED = "Nothing changed."
SIGNALS_REFUSED = "That signal code is not valid any more; create the signal source again."
UNKNOWN_COMMAND = "I do not know that command. /help lists what I can do."


def linked(title: str) -> str:
    """The answer to a successful ``/start <code>``."""
    where = f" ({escape(title)})" if title else ""
    return (
        f"Linked{where}: this chat now receives your Sparky notifications.\n"
        "/help lists what you can ask me."
    )


def failure(sentence: str) -> str:
    return escape(sentence)


def status(account: Json, accounts: Sequence[Json], *, trading: bool) -> str:
    """``/status``: plan, kill switch, accounts."""
    lines = [
        f"<b>Plan</b>: {escape(str(account.get('plan', '?')))} "
        f"({escape(str(account.get('payment_state', '?')))})",
        f"<b>Trading</b>: {'on' if trading else 'paused (kill switch)'}",
        f"<b>Accounts</b> ({len(accounts)}):",
    ]
    lines += [
        f"• {escape(a['label'])}: {escape(a['exchange_id'])} {escape(a['mode'])}, "
        f"{escape(a['status'])}"
        for a in accounts
    ]
    return "\n".join(lines)


def positions(found: Sequence[Json]) -> str:
    if not found:
        return "No open positions."
    lines = ["<b>Open positions</b>"]
    for p in found:
        entry = p.get("average_entry_price") or "?"
        upnl = p.get("unrealized_pnl")
        tail = f", unrealized {escape(str(upnl))}" if upnl is not None else ""
        lines.append(
            f"• {escape(p['symbol'])} ({escape(p['account'])}): {escape(p['side'])} "
            f"{escape(str(p['quantity']))} @ {escape(str(entry))}{tail}"
        )
    return "\n".join(lines)


def pnl(totals: Sequence[Json]) -> str:
    if not totals:
        return "No trades yet."
    lines = ["<b>PnL</b>"]
    lines += [
        f"• {escape(t['account'])} {escape(t['currency'])}: realized "
        f"{escape(str(t['realized_pnl']))}, unrealized {escape(str(t['unrealized_pnl']))}, "
        f"total <b>{escape(str(t['total']))}</b>"
        for t in totals
    ]
    return "\n".join(lines)


def alerts(found: Sequence[Json]) -> str:
    if not found:
        return "No alerts yet."
    lines = ["<b>Last alerts</b>"]
    for a in found:
        what = " ".join(str(a.get(k) or "") for k in ("action", "symbol")).strip() or "alert"
        outcome = a.get("outcome") or a.get("status", "")
        lines.append(
            f"• {escape(str(a['received_at'])[:16].replace('T', ' '))} {escape(what)}: "
            f"{escape(str(outcome))}"
        )
    return "\n".join(lines)


def signals_claimed(title: str, webhook: str) -> str:
    return (
        f"New posts in <b>{escape(title)}</b> now go to your webhook {escape(webhook)} "
        "as alerts. Edited posts are never traded."
    )


def signal_refused(title: str, sentence: str) -> str:
    """A post the webhook refused (a 4xx): not traded, and why."""
    return f"A post in <b>{escape(title)}</b> was not traded: {escape(sentence)}"


def edit_not_traded(title: str) -> str:
    return (
        f"A post in <b>{escape(title)}</b> was edited. Edited posts are never traded "
        "(the original was handled when it was posted); post a new message to trade again. "
        "(This notice is shown once per channel.)"
    )
