"""Closed vocabularies of the messages. Adding a member is a contract change."""

from enum import StrEnum


class Action(StrEnum):
    """What an alert asks for, after synonyms are folded (``long`` → buy, ``exit`` → close)."""

    BUY = "buy"
    SELL = "sell"
    CLOSE = "close"
    CLOSE_LONG = "close_long"
    CLOSE_SHORT = "close_short"
    CANCEL = "cancel"
    ADD = "add"
    """Add to the open position in its own direction (TradersPost's ``add``): a buy while
    long, a sell while short; refused when flat, unless a sentiment says the direction."""


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """What an alert may ask for (market, limit), and the protective orders the executor
    places after an entry fills (conditional: triggered by the venue's price)."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    """Stop-market: a market order once the price reaches the trigger (Binance STOP_MARKET)."""
    STOP_LIMIT = "stop_limit"
    """A limit order at its limit price once the price reaches the trigger."""
    TAKE_PROFIT = "take_profit"
    """Take-profit-market (Binance TAKE_PROFIT_MARKET); on spot the limit leg of an OCO."""
    TRAILING_STOP = "trailing_stop"
    """A stop that follows the price by a distance (Binance TRAILING_STOP_MARKET)."""


class OrderRole(StrEnum):
    """Why an order exists: an alert asked for it, or it protects an entry that filled."""

    ORDER = "order"
    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
    CANCEL = "cancel"


class QuantityType(StrEnum):
    """How an alert's quantity is meant."""

    BASE = "base"
    QUOTE = "quote"
    PERCENT_EQUITY = "percent_equity"
    PERCENT_POSITION = "percent_position"


class SizingRule(StrEnum):
    """How the executor turns a `Sizing` value into an order amount with live data."""

    BASE = "base"
    QUOTE = "quote"
    PERCENT_EQUITY = "percent_equity"
    PERCENT_POSITION = "percent_position"
    TARGET_POSITION = "target_position"


class MarketPosition(StrEnum):
    """TradingView's ``{{strategy.market_position}}``."""

    LONG = "long"
    SHORT = "short"
    FLAT = "flat"


class PriceUnit(StrEnum):
    """A take-profit or stop-loss given as an absolute price, a percentage from the entry's
    fill price, or an absolute distance from it (in the quote currency)."""

    PRICE = "price"
    PERCENT = "percent"
    AMOUNT = "amount"


class ExitKind(StrEnum):
    """How a protective order executes once triggered.

    ``market``: at market (stop-market, take-profit-market); ``limit``: a limit order at the
    target's ``limit_price`` (stop-limit); ``trailing``: the stop follows the price by the
    target's distance (``percent`` or ``amount``), placed natively where the venue has it.
    """

    MARKET = "market"
    LIMIT = "limit"
    TRAILING = "trailing"


class DriftSource(StrEnum):
    """What a strategy position was found to differ from."""

    TRADINGVIEW = "tradingview"
    WALLET = "wallet"


class DriftPolicy(StrEnum):
    """What to do when TradingView's position of a strategy differs from Sparky's."""

    REPORT = "report"
    HEAL = "heal"


class AccountMode(StrEnum):
    LIVE = "live"
    TESTNET = "testnet"
    PAPER = "paper"


class MarginMode(StrEnum):
    CROSS = "cross"
    ISOLATED = "isolated"


class RefusalReason(StrEnum):
    """Why ingress refused a request to a webhook it knows (`AlertRefused`)."""

    INVALID_ALERT = "invalid_alert"  # 400: not an alert Sparky can act on
    PASSPHRASE = "passphrase"  # noqa: S105 - 401: missing or wrong passphrase, not one
    URL_REPLACED = "url_replaced"  # 401: a rotated URL past its grace period
    IP_NOT_ALLOWED = "ip_not_allowed"  # 403: not from the webhook's IP allowlist
    WEBHOOK_DISABLED = "webhook_disabled"  # 403
    SUSPENDED = "suspended"  # 403: the tenant's account is suspended
    TOO_LARGE = "too_large"  # 413
    RATE_LIMITED = "rate_limited"  # 429: more alerts than the plan allows


class AlertStatus(StrEnum):
    """Where an alert stands in the ledger's feed (the API's ``status``; the web app's filter)."""

    REFUSED = "refused"  # at the webhook
    RECEIVED = "received"
    REJECTED = "rejected"  # by the router or the exchange
    PLACED = "placed"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    FAILED = "failed"
    UNCERTAIN = "uncertain"


class RejectReason(StrEnum):
    """Why the router refused an intent; each has a sentence a trader understands."""

    TENANT_UNKNOWN = "tenant_unknown"
    TENANT_INACTIVE = "tenant_inactive"
    LIVE_TRADING_NOT_ALLOWED = "live_trading_not_allowed"
    KILL_SWITCH = "kill_switch"
    STRATEGY_PAUSED = "strategy_paused"
    UNKNOWN_ACCOUNT = "unknown_account"
    ACCOUNT_LIMIT = "account_limit"
    SYMBOL_NOT_ALLOWED = "symbol_not_allowed"
    UNKNOWN_SYMBOL = "unknown_symbol"
    DIRECTION_NOT_ALLOWED = "direction_not_allowed"
    OUTSIDE_TRADING_WINDOW = "outside_trading_window"
    QUOTA_EXCEEDED = "quota_exceeded"
    STALE_SIGNAL = "stale_signal"
    MAX_OPEN_POSITIONS = "max_open_positions"
    MAX_ORDER_SIZE = "max_order_size"
    INVALID_QUANTITY = "invalid_quantity"
    UNSUPPORTED_ACTION = "unsupported_action"
    UNSUPPORTED_ORDER = "unsupported_order"
    NOTHING_TO_DO = "nothing_to_do"
    LEVERAGE_NOT_ALLOWED = "leverage_not_allowed"
    INVALID_EXIT = "invalid_exit"
    UNKNOWN_ORDER = "unknown_order"
    INTERNAL_ERROR = "internal_error"
