"""The bot's Prometheus metrics (no tenant, chat or user as a label)."""

from __future__ import annotations

from prometheus_client import Counter

UPDATES = Counter(
    "sparky_notifier_telegram_updates_total",
    "Telegram updates, by what they were (command, button, post, edit, private_text, ignored) "
    "or duplicate (handled before: not acted on again).",
    ["kind"],
)
SIGNALS = Counter(
    "sparky_notifier_signal_posts_total",
    "Signal posts, by outcome: forwarded (ingress took it), refused (ingress's 4xx, reported), "
    "unavailable (no answer after retries, reported), not_admin (a group member's message).",
    ["outcome"],
)
