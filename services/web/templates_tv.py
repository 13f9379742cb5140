"""TradingView alert messages for a trader's symbol and sizing: the templates of docs/alerts.md.

Pure: `alert_templates` writes the JSON and the one-line text message to paste in TradingView's
message box; `sample_alert` the same alert with TradingView's placeholders filled in, which the
"Send test alert" button posts to the trader's webhook.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

TICKER = "{{exchange}}:{{ticker}}"
_SYMBOL = re.compile(r"^[A-Za-z0-9._:/!{}-]{1,64}$")
_LABEL = re.compile(r"^[^/\x00-\x1f\x7f-\x9f\"]{1,64}$")
MAX_AMOUNT = Decimal(10) ** 15


class Sizing(StrEnum):
    """How each alert's size is given."""

    BASE = "base"  # an amount of the coin: 0.001 BTC
    QUOTE = "quote"  # worth an amount of the quote currency: 100 USDT
    PERCENT = "percent"  # a percentage of equity
    STRATEGY = "strategy"  # what the TradingView strategy ordered


class TemplateError(ValueError):
    """An option that cannot go into a template; the message names it."""


@dataclass(frozen=True)
class TemplateOptions:
    """What the trader chose: the market, the size, and optional strategy and account names."""

    symbol: str = "BINANCE:BTCUSDT"
    sizing: Sizing = Sizing.BASE
    amount: str = "0.001"
    strategy: str = ""
    account: str = ""

    @classmethod
    def parse(
        cls, symbol: str, sizing: str, amount: str, strategy: str = "", account: str = ""
    ) -> TemplateOptions:
        """Check the form's values; raise `TemplateError` naming the first bad one."""
        symbol, amount = symbol.strip(), amount.strip().removesuffix("%")
        if not _SYMBOL.fullmatch(symbol):
            raise TemplateError(
                "The symbol is letters, digits and : . / - only, like BINANCE:BTCUSDT."
            )
        try:
            kind = Sizing(sizing)
        except ValueError:
            raise TemplateError("Choose how alerts are sized.") from None
        _check_amount(amount, kind)
        for name, value in (("strategy", strategy), ("account", account)):
            if value and not _LABEL.fullmatch(value.strip()):
                raise TemplateError(f"The {name} name is up to 64 characters, without / or quotes.")
        return cls(symbol, kind, amount, strategy.strip(), account.strip())


def _check_amount(amount: str, sizing: Sizing) -> None:
    if sizing is Sizing.STRATEGY and not amount:
        return
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise TemplateError("The size is a number, like 0.001.") from None
    if not value.is_finite() or value <= 0 or value >= MAX_AMOUNT:
        raise TemplateError("The size is a number above 0.")
    if sizing is Sizing.PERCENT and value > 100:
        raise TemplateError("A percentage of equity is at most 100.")


def _size_fields(options: TemplateOptions) -> dict[str, str]:
    if options.sizing is Sizing.STRATEGY:
        return {"qty": "{{strategy.order.contracts}}"}
    if options.sizing is Sizing.QUOTE:
        return {"qty": options.amount, "quantity_type": "quote"}
    if options.sizing is Sizing.PERCENT:
        return {"qty": f"{options.amount}%"}
    return {"qty": options.amount}


def _fields(options: TemplateOptions, action: str, time: str) -> dict[str, str]:
    fields = {"action": action, "ticker": options.symbol}
    if options.account:
        fields["account"] = options.account
    fields |= _size_fields(options)
    if options.strategy:
        fields["strategy"] = options.strategy
    fields["time"] = time
    return fields


def json_template(options: TemplateOptions) -> str:
    """The JSON message, as docs/alerts.md writes its templates."""
    action = "{{strategy.order.action}}" if options.sizing is Sizing.STRATEGY else "buy"
    return json.dumps(_fields(options, action, "{{timenow}}"), indent=2)


def _quoted(value: str) -> str:
    return f'"{value}"' if " " in value else value


def text_template(options: TemplateOptions) -> str:
    """The one-line text message: ``<action> <ticker> <size> [option=value …]``."""
    strategy = options.sizing is Sizing.STRATEGY
    parts = ["{{strategy.order.action}}" if strategy else "buy", options.symbol]
    size = _size_fields(options)
    parts.append(size["qty"])
    if "quantity_type" in size:
        parts.append(f"quantity_type={size['quantity_type']}")
    if options.account:
        parts.append(f"account={_quoted(options.account)}")
    if options.strategy:
        parts.append(f"strategy={_quoted(options.strategy)}")
    parts.append("time={{timenow}}")
    return " ".join(parts)


def alert_templates(options: TemplateOptions) -> tuple[str, str]:
    """The JSON and the text message for ``options``."""
    return json_template(options), text_template(options)


def sample_alert(options: TemplateOptions, now: datetime) -> dict[str, Any]:
    """The JSON template as TradingView would send it now: a buy, placeholders filled in."""
    filled = options
    if options.sizing is Sizing.STRATEGY:
        filled = TemplateOptions(
            options.symbol,
            Sizing.BASE,
            options.amount or "0.001",
            options.strategy,
            options.account,
        )
    return _fields(filled, "buy", now.isoformat().replace("+00:00", "Z"))
